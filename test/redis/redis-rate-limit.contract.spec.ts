import { RedisRateLimitStore } from '../../lib/storage/redis/redis-rate-limit.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { rateLimitStoreContract } from '../storage/contracts/rate-limit-store.contract.js';
import { describeRedis, redisClients } from '../harness/redis.js';

describeRedis('RedisRateLimitStore', () => {
  const redis = redisClients('rate-limit-contract');

  // Each store has a client of its own (another app instance), all on one prefix.
  rateLimitStoreContract('RedisRateLimitStore', {
    create: () => Promise.resolve(new RedisRateLimitStore(scriptClientOf(redis.connect()), { prefix: redis.prefix })),
    createPeer: () => Promise.resolve(new RedisRateLimitStore(scriptClientOf(redis.connect()), { prefix: redis.prefix })),
  });
});
