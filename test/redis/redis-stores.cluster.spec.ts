/**
 * The record stores on a Redis Cluster of three masters (and a replica each): every script's keys,
 * those it is given and those it names itself, are in one hash slot per kind of record.
 */
import { Cluster } from 'ioredis';

import { RedisAccessListStore } from '../../lib/storage/redis/redis-access-list.store.js';
import { RedisBanStore } from '../../lib/storage/redis/redis-ban.store.js';
import { RedisLeaseStore } from '../../lib/storage/redis/redis-lease.store.js';
import { RedisStatsStore } from '../../lib/storage/redis/redis-stats.store.js';
import { scriptClientOf, type ScriptClient } from '../../lib/storage/redis/redis-script.js';
import { RedisViolationStore } from '../../lib/storage/redis/redis-violation.store.js';
import { describeRedis } from '../harness/redis.js';
import { startRedisCluster, type RedisCluster } from '../harness/redis-server.js';
import { accessListStoreContract } from '../storage/contracts/access-list-store.contract.js';
import { banStoreContract } from '../storage/contracts/ban-store.contract.js';
import { leaseStoreContract } from '../storage/contracts/lease-store.contract.js';
import { statsStoreContract } from '../storage/contracts/stats-store.contract.js';
import { violationStoreContract } from '../storage/contracts/violation-store.contract.js';

const T0 = Date.UTC(2030, 0, 1);

describeRedis('Redis stores on a Redis Cluster', () => {
  let cluster: RedisCluster | undefined;
  const clients: Cluster[] = [];
  let scripts: ScriptClient;
  let stores = 0;
  const fresh = () => `t:${++stores}:`;

  function connect(): Cluster {
    const client = new Cluster([...cluster!.startupNodes], { redisOptions: { maxRetriesPerRequest: 1 } });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    scripts = scriptClientOf(connect());
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.dispose();
  });

  banStoreContract('RedisBanStore on a cluster', () => new RedisBanStore(scripts, { prefix: fresh() }));
  violationStoreContract('RedisViolationStore on a cluster', () => new RedisViolationStore(scripts, { prefix: fresh() }));
  accessListStoreContract('RedisAccessListStore on a cluster', () => new RedisAccessListStore(scripts, { prefix: fresh() }));
  describe('leases', () => {
    const prefix = fresh();
    leaseStoreContract('RedisLeaseStore on a cluster', {
      create: async () => new RedisLeaseStore(scripts, { prefix }),
      createPeer: async () => new RedisLeaseStore(scriptClientOf(connect()), { prefix }),
    });
  });
  describe('statistics', () => {
    let prefix: string;
    statsStoreContract('RedisStatsStore on a cluster', {
      create: async () => new RedisStatsStore(scripts, { prefix: (prefix = fresh()) }),
      createPeer: async () => new RedisStatsStore(scriptClientOf(connect()), { prefix }),
    });
  });

  it('puts the keys of each kind in one slot, the kinds spread over the masters', async () => {
    const prefix = fresh();
    await new RedisBanStore(scripts, { prefix }).put(
      { target: { type: 'key', key: 'k' }, kind: 'permanent', reason: '', source: 'admin', createdBy: 'a', violationCount: 0 },
      T0,
    );
    await new RedisViolationStore(scripts, { prefix }).record({ key: 'k', rule: 'r', route: 'A.a', method: 'GET', hits: 2, limit: 1, atMs: T0 });
    await new RedisAccessListStore(scripts, { prefix }).put({ cidr: '10.0.0.0/8', kind: 'deny', createdBy: 'a', createdAtMs: T0, expiresAtMs: T0 + 1 }, T0);
    await new RedisLeaseStore(scripts, { prefix }).acquire('p', { id: 'h:1', holder: 'h', expiresAtMs: T0 + 1_000 }, 1, T0);

    const client = clients[0]!;
    const slots = new Map<string, Set<number>>();
    for (const node of client.nodes('master')) {
      for (const name of await node.keys(`${prefix}*`)) {
        const kind = /^\{(\w+)\}/.exec(name.slice(prefix.length))![1]!;
        const slot = (await node.cluster('KEYSLOT', name)) as number;
        if (!slots.has(kind)) slots.set(kind, new Set());
        slots.get(kind)!.add(slot);
      }
    }
    expect([...slots.keys()].sort()).toEqual(['access', 'bans', 'leases', 'violations']);
    for (const [kind, set] of slots) expect([kind, set.size]).toEqual([kind, 1]);
    const masters = await Promise.all([...slots.values()].map(async (set) => (await cluster!.masterOf([...set][0]!)).port));
    expect(new Set(masters).size).toBeGreaterThan(1);
  });
});
