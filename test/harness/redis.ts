/**
 * Helpers for specs that need Redis. test/harness/global-setup.ts provides REDIS_URL (a Redis given
 * by the caller, or a `redis-server` it started), or RAMPART_REDIS_UNAVAILABLE with the reason.
 */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';

import { isCi } from './mongo-server.js';
import { REDIS_FIX, startRedisCluster, type RedisCluster } from './redis-server.js';

/** Why no Redis is available, or undefined when one is. */
export function redisUnavailableReason(): string | undefined {
  if (process.env['REDIS_URL']) return undefined;
  return (
    process.env['RAMPART_REDIS_UNAVAILABLE'] ??
    'REDIS_URL is not set and the test harness did not run (is globalSetup test/harness/global-setup.ts configured in jest.config.cjs?)'
  );
}

/** The Redis URL. */
export function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (url) return url;
  throw new Error(`Redis is unavailable${isCi() ? ' under CI' : ''} (${redisUnavailableReason()}): ${REDIS_FIX}`);
}

/**
 * `describe` when Redis is available. Otherwise the suite fails with the reason and how to fix it:
 * a Redis suite never passes without having run.
 */
export function describeRedis(name: string, fn: () => void): void {
  const reason = redisUnavailableReason();
  if (reason === undefined) {
    describe(name, fn);
    return;
  }
  describe(name, () => {
    it('has a Redis to run against', () => {
      throw new Error(`Redis is unavailable${isCi() ? ' under CI' : ''}: ${reason}. Fix: ${REDIS_FIX}`);
    });
  });
}

/** A key prefix of its own for each spec file (suites run in parallel workers on one server). */
export function uniqueRedisPrefix(name: string): string {
  return `t:${name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 30)}:${process.pid}:${randomBytes(3).toString('hex')}:`;
}

/** Deletes every key starting with `prefix` (on every master of a cluster). */
export async function deleteKeys(client: Redis | Cluster, prefix: string): Promise<void> {
  const nodes = 'nodes' in client && typeof client.nodes === 'function' ? (client as Cluster).nodes('master') : [client as Redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      // One DEL per key: in a cluster, keys of one batch may live in different slots.
      for (const key of keys) await node.del(key);
    } while (cursor !== '0');
  }
}

/**
 * ioredis clients to the test Redis for one spec, with a key prefix of its own (`prefix`): every
 * client is closed and every key under the prefix deleted after the spec's tests.
 */
export function redisClients(name: string): { readonly prefix: string; connect(options?: Record<string, unknown>): Redis } {
  const prefix = uniqueRedisPrefix(name);
  const clients: Redis[] = [];
  afterAll(async () => {
    const cleaner = new Redis(redisUrl(), { lazyConnect: false });
    try {
      await deleteKeys(cleaner, prefix);
    } finally {
      cleaner.disconnect();
      for (const client of clients) client.disconnect();
    }
  });
  return {
    prefix,
    connect(options = {}) {
      const client = new Redis(redisUrl(), { maxRetriesPerRequest: 1, ...options });
      clients.push(client);
      return client;
    },
  };
}

/**
 * A Redis Cluster of its own for one spec file: 3 masters with a replica each, started in `beforeAll`
 * (2–3 s), stopped with its data after the spec. `connect` opens an ioredis `Cluster` to it (closed
 * after the spec too). Needs `redis-server` and `redis-cli` on PATH whatever REDIS_URL says.
 */
export function redisClusterFixture(options: { nodeTimeoutMs?: number } = {}): {
  /** The running cluster (after `beforeAll`). */
  readonly cluster: RedisCluster;
  connect(options?: ClusterOptions): Cluster;
} {
  let cluster: RedisCluster | undefined;
  const clients: Cluster[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster(options);
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.dispose();
  }, 30_000);
  return {
    get cluster() {
      if (!cluster) throw new Error('the Redis Cluster is started in beforeAll: use it from a hook or a test');
      return cluster;
    },
    connect(clusterOptions = {}) {
      if (!cluster) throw new Error('the Redis Cluster is started in beforeAll: connect from a hook or a test');
      const client = new Cluster([...cluster.startupNodes], clusterOptions);
      clients.push(client);
      return client;
    },
  };
}
