import { RedisRateLimitStore } from '../../lib/storage/redis/redis-rate-limit.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { rateLimitRefundContract } from '../storage/contracts/rate-limit-refund.contract.js';
import { rateLimitStoreContract, type RateLimitStoreHarness } from '../storage/contracts/rate-limit-store.contract.js';
import { describeRedis, redisClients } from '../harness/redis.js';

describeRedis('RedisRateLimitStore', () => {
  const redis = redisClients('rate-limit-contract');

  // Each store has a client of its own (another app instance), all on one prefix.
  const harness: RateLimitStoreHarness = {
    create: () => Promise.resolve(new RedisRateLimitStore(scriptClientOf(redis.connect()), { prefix: redis.prefix })),
    createPeer: () => Promise.resolve(new RedisRateLimitStore(scriptClientOf(redis.connect()), { prefix: redis.prefix })),
  };
  rateLimitStoreContract('RedisRateLimitStore', harness);
  rateLimitRefundContract('RedisRateLimitStore', harness);
});
