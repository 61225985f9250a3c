import { RedisRateLimitStore } from '../../lib/storage/redis/redis-rate-limit.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { describeRedis, redisClients } from '../harness/redis.js';
import { sharedLoginScenario } from './shared-login.scenario.js';

describeRedis('failed logins counted on Redis across two instances', () => {
  const redis = redisClients('outcome-login');
  sharedLoginScenario(async () => ({
    store: new RedisRateLimitStore(scriptClientOf(redis.connect()), { prefix: redis.prefix }),
    close: async () => undefined,
  }));
});
