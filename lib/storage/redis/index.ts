/**
 * `nest-rampart/redis`: Rampart's state in Redis or Redis Cluster (an ioredis client or Cluster), shared by
 * every instance of an app. A separate entry point, so that apps without Redis never load it.
 */
export { RedisScript, scriptClientOf, type IoredisLike, type RedisClientLike, type ReplicaWait, type ScriptClient } from './redis-script.js';
export { RedisReplicationError } from './redis-replication.js';
export { counterKey, DEFAULT_REDIS_PREFIX, recordKey } from './redis-keys.js';
export { redisStorage, type RedisStorage, type RedisStorageOptions } from './redis-storage.js';
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './redis-rate-limit.store.js';
export { RedisBanStore, type RedisBanStoreOptions } from './redis-ban.store.js';
export { RedisViolationStore, type RedisViolationStoreOptions } from './redis-violation.store.js';
export { RedisAccessListStore, type RedisAccessListStoreOptions } from './redis-access-list.store.js';
export { RedisLeaseStore, type RedisLeaseStoreOptions } from './redis-lease.store.js';
export { RedisStatsStore, type RedisStatsStoreOptions } from './redis-stats.store.js';
export { RedisAdaptiveStore, type RedisAdaptiveStoreOptions } from './redis-adaptive.store.js';
