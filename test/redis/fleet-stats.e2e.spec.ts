/** Fleet-wide statistics on Redis: two instances, each with a client of its own, on one server (see fleetStatsScenario). */
import { redisStorage } from '../../lib/storage/redis/redis-storage.js';
import { fleetStatsScenario } from '../admin/fleet-stats.scenario.js';
import { describeRedis, redisClients } from '../harness/redis.js';

describeRedis('fleet-wide statistics on Redis (two instances)', () => {
  const redis = redisClients('fleet-stats');
  fleetStatsScenario(() => redisStorage({ client: redis.connect(), prefix: redis.prefix }));
});
