import { RedisAccessListStore } from '../../lib/storage/redis/redis-access-list.store.js';
import { RedisBanStore } from '../../lib/storage/redis/redis-ban.store.js';
import { RedisLeaseStore } from '../../lib/storage/redis/redis-lease.store.js';
import { RedisStatsStore } from '../../lib/storage/redis/redis-stats.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { RedisViolationStore } from '../../lib/storage/redis/redis-violation.store.js';
import { describeRedis, redisClients } from '../harness/redis.js';
import { accessListStoreContract } from '../storage/contracts/access-list-store.contract.js';
import { banStoreContract } from '../storage/contracts/ban-store.contract.js';
import { leaseStoreContract } from '../storage/contracts/lease-store.contract.js';
import { statsStoreContract } from '../storage/contracts/stats-store.contract.js';
import { violationStoreContract } from '../storage/contracts/violation-store.contract.js';

describeRedis('Redis stores', () => {
  const redis = redisClients('redis-stores-contract');
  let stores = 0;
  /** A prefix of its own for each store, so that tests share nothing. */
  const fresh = () => `${redis.prefix}${++stores}:`;
  let client: ReturnType<typeof scriptClientOf>;
  const scripts = () => (client ??= scriptClientOf(redis.connect()));

  banStoreContract('RedisBanStore', () => new RedisBanStore(scripts(), { prefix: fresh() }));
  violationStoreContract('RedisViolationStore', () => new RedisViolationStore(scripts(), { prefix: fresh() }));
  accessListStoreContract('RedisAccessListStore', () => new RedisAccessListStore(scripts(), { prefix: fresh() }));

  describe('leases', () => {
    const prefix = fresh();
    leaseStoreContract('RedisLeaseStore', {
      create: async () => new RedisLeaseStore(scripts(), { prefix }),
      // Another instance of the app: a connection of its own to the same keys.
      createPeer: async () => new RedisLeaseStore(scriptClientOf(redis.connect()), { prefix }),
    });
  });

  describe('statistics', () => {
    let prefix: string;
    statsStoreContract('RedisStatsStore', {
      create: async () => new RedisStatsStore(scripts(), { prefix: (prefix = fresh()) }),
      createPeer: async () => new RedisStatsStore(scriptClientOf(redis.connect()), { prefix }),
    });
  });
});
