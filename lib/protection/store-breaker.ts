/** When failed store calls mark the rate-limit store down (the module's `storeBreaker` option). */
export interface StoreBreakerOptions {
  /** Length of the sliding window over which failures are counted, in milliseconds. @default 10_000 */
  readonly windowMs: number;
  /** Failed or timed-out calls within `windowMs` that mark the store down (with `clients`). @default 5 */
  readonly failures: number;
  /**
   * Distinct clients those failures must concern: client addresses (what a client cannot choose, as
   * it can choose its identities, and each rule and route gives it keys of its own). @default 3
   */
  readonly clients: number;
}

export const DEFAULT_STORE_BREAKER: StoreBreakerOptions = Object.freeze({ windowMs: 10_000, failures: 5, clients: 3 });

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
 *    least `clients` distinct clients (by address: one client's rules and routes are many keys).
 *
 * Otherwise only that call is answered without the store. A client whose own key is slow (its
 * decisions queue behind one another, or its document is contended) or failing meets none of them
 * while the store answers other calls, so it cannot switch limits off for other clients; an outage
 * meets 1 or 2 at its first failure, a partial one (some keys, some calls) 3. This class keeps the
 * count of rule 3; StoreHealth applies 1 and 2.
 */
export class StoreBreaker {
  /** Failures within the window, oldest first: clock time and client. */
  private readonly failures: Array<{ atMs: number; client: string }> = [];

  constructor(private readonly options: StoreBreakerOptions) {}

  /** Notes a failure of a call made for `client` at `atMs`; whether rule 3 holds with it. */
  failedOften(client: string, atMs: number): boolean {
    const { failures } = this;
    failures.push({ atMs, client });
    const from = atMs - this.options.windowMs;
    let first = 0;
    while (first < failures.length && (failures[first].atMs <= from || failures.length - first > MAX_REMEMBERED)) first++;
    if (first > 0) failures.splice(0, first);
    if (failures.length < this.options.failures) return false;
    const clients = new Set<string>();
    for (const failure of failures) {
      clients.add(failure.client);
      if (clients.size >= this.options.clients) return true;
    }
    return false;
  }

  /** Forgets the failures counted so far (at a transition). */
  clear(): void {
    this.failures.length = 0;
  }
}
