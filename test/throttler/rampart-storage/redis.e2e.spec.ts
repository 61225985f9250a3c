/**
 * RampartThrottlerStorage on Redis under the real @nestjs/throttler: two app instances, each with a
 * client of its own, share exact counts, on one Redis server and on a Redis Cluster (each decision
 * is one script on one key, so no command spans hash slots). One instance passes a whole storage
 * (`redisStorage()`, its client quit with the app), the other a rate-limit store.
 */
import { Cluster, type Redis } from 'ioredis';
import { redisStorage } from '../../../lib/storage/redis/redis-storage.js';
import { RedisRateLimitStore } from '../../../lib/storage/redis/redis-rate-limit.store.js';
import { scriptClientOf } from '../../../lib/storage/redis/redis-script.js';
import { describeRedis, redisClients } from '../../harness/redis.js';
import { startRedisCluster, type RedisCluster } from '../../harness/redis-server.js';
import { describeSharedInstances } from './shared-instances.js';

describeRedis('RampartThrottlerStorage on Redis with @nestjs/throttler', () => {
  const redis = redisClients('throttler-storage');
  const quitWithApp: Redis[] = [];

  describeSharedInstances(async () => {
    const client = redis.connect();
    quitWithApp.push(client);
    return [
      redisStorage({ client, prefix: redis.prefix, quitOnClose: true }),
      new RedisRateLimitStore(scriptClientOf(redis.connect()), { prefix: redis.prefix }),
    ];
  });

  // After the apps' own afterAll: closing an app quit the client of its storage.
  afterAll(() => {
    expect(quitWithApp.map((client) => client.status)).toEqual(['end', 'end']);
  });
});

describeRedis('RampartThrottlerStorage on a Redis Cluster with @nestjs/throttler', () => {
  let cluster: RedisCluster | undefined;
  const clients: Cluster[] = [];
  const connect = () => {
    const client = new Cluster([...cluster!.startupNodes], { redisOptions: { maxRetriesPerRequest: 1 } });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.dispose();
  });

  describeSharedInstances(async () => [redisStorage({ client: connect() }), new RedisRateLimitStore(scriptClientOf(connect()))]);
});
