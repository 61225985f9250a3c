import { MemoryAccessListStore, type MemoryAccessListStoreOptions } from './memory-access-list.store.js';
import { MemoryBanStore, type MemoryBanStoreOptions } from './memory-ban.store.js';
import { MemoryLeaseStore } from './memory-lease.store.js';
import { MemoryRateLimitStore, type MemoryRateLimitStoreOptions } from './memory-rate-limit.store.js';
import { MemoryViolationStore, type MemoryViolationStoreOptions } from './memory-violation.store.js';
import { MemoryStatsStore } from './memory-stats.store.js';
import { MemoryAdaptiveStore, type MemoryAdaptiveStoreOptions } from './memory-adaptive.store.js';
import type { RampartStorage } from './rampart-storage.interface.js';

/** Options of `memoryStorage()`: one object per store, each optional. */
export interface MemoryStorageOptions {
  rateLimits?: MemoryRateLimitStoreOptions;
  bans?: MemoryBanStoreOptions;
  violations?: MemoryViolationStoreOptions;
  accessList?: MemoryAccessListStoreOptions;
  adaptive?: MemoryAdaptiveStoreOptions;
}

/** What `memoryStorage()` returns: the storage, with each store's concrete type. */
export interface MemoryStorage extends RampartStorage {
  readonly rateLimits: MemoryRateLimitStore;
  readonly bans: MemoryBanStore;
  readonly violations: MemoryViolationStore;
  readonly accessList: MemoryAccessListStore;
  readonly leases: MemoryLeaseStore;
  readonly stats: MemoryStatsStore;
  readonly adaptive: MemoryAdaptiveStore;
}

/**
 * The embedded default: every store in this process's memory, each bounded, no timer started. For a
 * single instance and for tests; several instances of an app need a shared storage (`mongoStorage()`).
 *
 * @example
 * RateLimitModule.forRoot({ storage: memoryStorage({ rateLimits: { maxKeys: 50_000 } }) })
 */
export function memoryStorage(options: MemoryStorageOptions = {}): MemoryStorage {
  return {
    rateLimits: new MemoryRateLimitStore(options.rateLimits),
    bans: new MemoryBanStore(options.bans),
    violations: new MemoryViolationStore(options.violations),
    accessList: new MemoryAccessListStore(options.accessList),
    leases: new MemoryLeaseStore(),
    stats: new MemoryStatsStore(),
    adaptive: new MemoryAdaptiveStore(options.adaptive),
  };
}
