import type { AccessListStore } from './access-list-store.interface.js';
import type { BanStore } from './ban-store.interface.js';
import type { LeaseStore } from './lease-store.interface.js';
import type { RateLimitStore } from './rate-limit-store.interface.js';
import type { ViolationStore } from './violation-store.interface.js';
import type { StatsStore } from './stats-store.interface.js';
import type { AdaptiveStore } from './adaptive-store.interface.js';

/**
 * Everything Rampart keeps: counters, bans, violation history and allow/deny lists. `memoryStorage()`
 * is the embedded default; `mongoStorage()` shares it between every instance of an app.
 */
export interface RampartStorage {
  readonly rateLimits: RateLimitStore;
  readonly bans: BanStore;
  readonly violations: ViolationStore;
  readonly accessList: AccessListStore;
  /**
   * Leases: the slots of concurrency limits (WebSocket connections per client, requests in flight),
   * shared by every instance. Needed only by those limits; both built-in storages have it.
   */
  readonly leases?: LeaseStore;
  /**
   * Each instance's statistics summary, which the admin API sums over the fleet. Without it, the
   * stats API answers for the instance it runs on only. The built-in storages have it.
   */
  readonly stats?: StatsStore;
  /**
   * The state of adaptive limits (rules with `adaptive`), per rule and client. Without it, each
   * instance keeps that state in its own memory. The built-in storages have it.
   */
  readonly adaptive?: AdaptiveStore;
  /**
   * Prepares the storage (indexes, connections) at startup. Called again, every `banSyncIntervalMs`,
   * until it succeeds, so it must be safe to call more than once. Throw a `StorageSetupError` for a
   * problem that trying again cannot fix.
   */
  init?(): Promise<void>;
  /** Releases what the storage opened itself (never a connection the app owns). */
  close?(): Promise<void>;
}
