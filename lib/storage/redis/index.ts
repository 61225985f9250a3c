/**
 * `nest-rampart/redis`: Rampart's state in Redis or Redis Cluster (ioredis or node-redis), shared by
 * every instance of an app. A separate entry point, so that apps without Redis never load it.
 */
export { RedisScript, scriptClientOf, type IoredisLike, type NodeRedisLike, type RedisClientLike, type ScriptClient } from './redis-script.js';
export { counterKey, DEFAULT_REDIS_PREFIX, recordKey } from './redis-keys.js';
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './redis-rate-limit.store.js';
