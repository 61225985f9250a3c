import type { RampartStorage } from './rampart-storage.interface.js';

/**
 * A storage made of two: the hot, per-request state from one (counters and leases, e.g. Redis), the
 * durable records from the other (bans, violations, allow/deny lists, e.g. MongoDB). What
 * `storage: { counters, records }` means.
 */
export interface SplitStorageOptions {
  /** Where counters (`rateLimits`), leases and adaptive-limit state live. Its other stores are not used. */
  readonly counters: Pick<RampartStorage, 'rateLimits' | 'leases' | 'adaptive' | 'init' | 'close'>;
  /** Where bans, violations, allow/deny lists and statistics summaries live (and leases, when `counters` has none). */
  readonly records: RampartStorage | Omit<RampartStorage, 'rateLimits'>;
}

/** Whether `value` is the `{ counters, records }` form of the `storage` option. */
export function isSplitStorage(value: unknown): value is SplitStorageOptions {
  return typeof value === 'object' && value !== null && 'counters' in value && 'records' in value && !('rateLimits' in value);
}

/**
 * Counters in one storage, records in another: `storage: splitStorage({ counters: redisStorage({ client }),
 * records: mongoStorage({ connection }) })`, which `storage: { counters, records }` does too. `init()`
 * prepares both (together; each is called again until it succeeds), `close()` closes both.
 */
export function splitStorage({ counters, records }: SplitStorageOptions): RampartStorage {
  const parts = counters === (records as unknown) ? [counters] : [counters, records];
  const leases = counters.leases ?? records.leases;
  const adaptive = counters.adaptive ?? records.adaptive;
  /** Each part's init() that succeeded or is under way: a retry never runs one twice at once. */
  let ready = new Map<object, Promise<void>>();
  return {
    rateLimits: counters.rateLimits,
    bans: records.bans,
    violations: records.violations,
    accessList: records.accessList,
    ...(leases ? { leases } : {}),
    ...(adaptive ? { adaptive } : {}),
    ...(records.stats ? { stats: records.stats } : {}),
    async init() {
      // A part that is ready is not prepared again when the other failed and init() is retried.
      await Promise.all(
        parts.map((part) => {
          let done = ready.get(part);
          if (done === undefined) {
            done = Promise.resolve(part.init?.()).catch((error: unknown) => {
              ready.delete(part);
              throw error;
            });
            ready.set(part, done);
          }
          return done;
        }),
      );
    },
    async close() {
      ready = new Map();
      await Promise.all(parts.map((part) => part.close?.()));
    },
  };
}
