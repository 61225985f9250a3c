/**
 * The rate-limit store on a Redis Cluster (3 masters, a replica each) through an ioredis `Cluster`:
 * every script runs on the node of its key's slot, whose script cache is its own.
 */
import { Cluster } from 'ioredis';
import { RedisRateLimitStore } from '../../lib/storage/redis/redis-rate-limit.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { startRedisCluster, type RedisCluster } from '../harness/redis-server.js';
import { describeRedis } from '../harness/redis.js';
import { rateLimitRefundContract } from '../storage/contracts/rate-limit-refund.contract.js';
import { rateLimitStoreContract, type RateLimitStoreHarness } from '../storage/contracts/rate-limit-store.contract.js';

describeRedis('RedisRateLimitStore on a Redis Cluster', () => {
  let cluster: RedisCluster;
  const clients: Cluster[] = [];
  const connect = () => {
    const client = new Cluster([...cluster.startupNodes], { redisOptions: { maxRetriesPerRequest: 1 } });
    clients.push(client);
    return client;
  };
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.dispose();
  });

  const harness: RateLimitStoreHarness = {
    create: () => Promise.resolve(new RedisRateLimitStore(scriptClientOf(connect()), { prefix: 'cluster:' })),
    createPeer: () => Promise.resolve(new RedisRateLimitStore(scriptClientOf(connect()), { prefix: 'cluster:' })),
  };
  rateLimitStoreContract('RedisRateLimitStore (cluster)', harness);
  rateLimitRefundContract('RedisRateLimitStore (cluster)', harness);
});
