/** When failed store calls mark the rate-limit store down (the module's `storeBreaker` option). */
export interface StoreBreakerOptions {
  /** Length of the sliding window over which failures are counted, in milliseconds. @default 10_000 */
  readonly windowMs: number;
  /** Failed or timed-out calls within `windowMs` that mark the store down (with `keys`). @default 5 */
  readonly failures: number;
  /** Distinct keys those failures must concern. @default 3 */
  readonly keys: number;
}

export const DEFAULT_STORE_BREAKER: StoreBreakerOptions = Object.freeze({ windowMs: 10_000, failures: 5, keys: 3 });

/** Failures remembered at most, whatever the options (the oldest are forgotten first). */
const MAX_REMEMBERED = 1_024;

/**
 * Tells a store that is down from one key that is slow or failing. A request's call that fails or
 * times out marks the store down when
 * 1. it timed out and no store call has succeeded since it began (the store went silent for a whole
 *    `storeTimeoutMs`), or
 * 2. it failed with an error and a check of the store made at once (a read of the probe's own key,
 *    bounded by `storeTimeoutMs`, one at a time) fails or times out too, or
 * 3. within the last `windowMs`, at least `failures` calls failed or timed out, and they concern at
 *    least `keys` distinct keys.
 *
 * Otherwise only that call is answered without the store. A client whose own key is slow (its
 * decisions queue behind one another, or its document is contended) or failing meets none of them
 * while the store answers other calls, so it cannot switch limits off for other clients; an outage
 * meets 1 or 2 at its first failure, a partial one (some keys, some calls) 3. This class keeps the
 * count of rule 3; StoreHealth applies 1 and 2.
 */
export class StoreBreaker {
  /** Failures within the window, oldest first: clock time and key. */
  private readonly failures: Array<{ atMs: number; key: string }> = [];

  constructor(private readonly options: StoreBreakerOptions) {}

  /** Notes a failure of a call on `key` at `atMs`; whether rule 2 holds with it. */
  failedOften(key: string, atMs: number): boolean {
    const { failures } = this;
    failures.push({ atMs, key });
    const from = atMs - this.options.windowMs;
    let first = 0;
    while (first < failures.length && (failures[first].atMs <= from || failures.length - first > MAX_REMEMBERED)) first++;
    if (first > 0) failures.splice(0, first);
    if (failures.length < this.options.failures) return false;
    const keys = new Set<string>();
    for (const failure of failures) {
      keys.add(failure.key);
      if (keys.size >= this.options.keys) return true;
    }
    return false;
  }

  /** Forgets the failures counted so far (at a transition). */
  clear(): void {
    this.failures.length = 0;
  }
}
