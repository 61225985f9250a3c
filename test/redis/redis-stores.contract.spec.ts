import { RedisAdaptiveStore } from '../../lib/storage/redis/redis-adaptive.store.js';
import { RedisAccessListStore } from '../../lib/storage/redis/redis-access-list.store.js';
import { RedisBanStore } from '../../lib/storage/redis/redis-ban.store.js';
import { RedisLeaseStore } from '../../lib/storage/redis/redis-lease.store.js';
import { RedisStatsStore } from '../../lib/storage/redis/redis-stats.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { RedisViolationStore } from '../../lib/storage/redis/redis-violation.store.js';
import { describeRedis, redisClients } from '../harness/redis.js';
import { adaptiveStoreContract, stateAt } from '../storage/contracts/adaptive-store.contract.js';
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

  describe('adaptive limits', () => {
    let prefix: string;
    adaptiveStoreContract('RedisAdaptiveStore', {
      create: async () => new RedisAdaptiveStore(scripts(), { prefix: (prefix = fresh()) }),
      createPeer: async () => new RedisAdaptiveStore(scriptClientOf(redis.connect()), { prefix }),
    });

    it('keeps one key per store key, hash-tagged by it, with a TTL past its expiry', async () => {
      const prefix = fresh();
      const store = new RedisAdaptiveStore(scripts(), { prefix });
      const t0 = Date.UTC(2030, 0, 1);
      await store.put('api:r:203.0.113.7', stateAt(t0), t0 + 60_000);
      const raw = redis.connect();
      const key = `${prefix}ad:{api:r:203.0.113.7}`;
      expect(JSON.parse((await raw.get(key)) as string)).toEqual({ s: stateAt(t0), e: t0 + 60_000 });
      const ttl = await raw.pttl(key);
      expect(ttl).toBeGreaterThan(3_600_000);
      expect(ttl).toBeLessThanOrEqual(3_660_000);
      // A value that is not a state (written by something else) reads as none.
      await raw.set(key, JSON.stringify({ s: { trust: 7 }, e: t0 + 60_000 }));
      expect(await store.get('api:r:203.0.113.7', t0)).toBeUndefined();
    });
  });
});
