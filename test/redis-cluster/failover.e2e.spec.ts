/**
 * The master holding the ban records dies (SIGKILL) on a real Redis Cluster while two app
 * instances are under load, and its replica takes over (cluster-node-timeout 1 s).
 *
 * Redis replicates asynchronously: a write its master acknowledged is lost if the master dies before
 * the replica has it. With `waitForReplicas`, the ban store sends `WAIT` after each ban on the
 * connection that wrote it, and a ban is reported made only once a replica has it: first shown
 * directly (a stopped replica holds the put back; a replica that does not answer in time fails it),
 * then under load, where a ban made just before the kill is enforced after the failover on the
 * running instances and on one started afterwards.
 */
import { Redis, type Cluster, type ClusterOptions } from 'ioredis';
import { RateLimitService } from '../../lib/protection/rate-limit.service.js';
import type { NewBan } from '../../lib/storage/ban-store.interface.js';
import { recordKey, RedisBanStore, RedisReplicationError, redisStorage, scriptClientOf } from '../../lib/storage/redis/index.js';
import { findRepoRoot } from '../harness/mongo-server.js';
import { redisClusterFixture } from '../harness/redis.js';
import type { RedisServer } from '../harness/redis-server.js';
import { ChaosBench, expectStateKept, expectWithinBounds, runOutageUnderLoad, STORE_TIMEOUT_MS } from '../chaos/chaos-load.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);

/**
 * As the README recommends for Rampart: commands fail at once while no connection can take them
 * (answered by the outage policy at once, never run late), one retry per command, and a connection
 * attempt abandoned after a second. ioredis's own failover handling (MOVED, CLUSTERDOWN, slot
 * refreshes) is left as it is.
 */
const CLUSTER_OPTIONS: ClusterOptions = { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 1_000 } };

const permanent = (key: string): NewBan => ({
  target: { type: 'key', key },
  kind: 'permanent',
  reason: 'abuse',
  source: 'admin',
  createdBy: 'ops',
  violationCount: 0,
});

/** Stops `node` (SIGSTOP) while `during` runs, and lets it go on (SIGCONT) whatever happens. */
async function paused<T>(node: RedisServer, during: (resume: () => void) => Promise<T>): Promise<T> {
  const resume = () => process.kill(node.pid!, 'SIGCONT');
  process.kill(node.pid!, 'SIGSTOP');
  try {
    return await during(resume);
  } finally {
    resume();
  }
}

describe('Redis Cluster: failover of the master holding the bans', () => {
  const fixture = redisClusterFixture({ nodeTimeoutMs: 1_000 });

  /** The master serving the `{bans}` slot of `prefix` now, and its replica. */
  async function bansShard(client: Cluster, prefix: string): Promise<{ slot: number; master: RedisServer; replica: RedisServer }> {
    const slot = Number(await client.cluster('KEYSLOT', recordKey(prefix, 'bans', 'records')));
    const master = await fixture.cluster.masterOf(slot);
    const [replica] = await fixture.cluster.replicasOf(master);
    if (replica === undefined) throw new Error(`the master of slot ${slot} has no replica`);
    return { slot, master, replica };
  }

  /** The ban record `id` as the replica `node` holds it (a replica answers reads after READONLY). */
  async function onReplica(node: RedisServer, prefix: string, id: string): Promise<string | null> {
    const client = new Redis({ host: '127.0.0.1', port: node.port });
    try {
      await client.readonly();
      return await client.hget(recordKey(prefix, 'bans', 'records'), id);
    } finally {
      await client.quit();
    }
  }

  describe('waitForReplicas', () => {
    it('resolves a ban only once the replica has it', async () => {
      const client = fixture.connect();
      const prefix = 't:wait-held:';
      const bans = new RedisBanStore(scriptClientOf(client), { prefix, waitForReplicas: { replicas: 1, timeoutMs: 5_000 } });
      const { replica } = await bansShard(client, prefix);
      await paused(replica, async (resume) => {
        let settled = false;
        const put = bans.put(permanent('held'), T0).finally(() => (settled = true));
        // Not a window of time the test waits out: how long the put is seen to wait for the replica.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(settled).toBe(false);
        resume();
        await expect(put).resolves.toMatchObject({ id: 'key:held', kind: 'permanent' });
      });
      expect(await onReplica(replica, prefix, 'key:held')).toContain('"kind":"permanent"');
    });

    it('fails a ban its replica does not have within timeoutMs, which is in force on the master all the same', async () => {
      const client = fixture.connect();
      const prefix = 't:wait-failed:';
      const bans = new RedisBanStore(scriptClientOf(client), { prefix, waitForReplicas: { replicas: 1, timeoutMs: 200 } });
      const { replica } = await bansShard(client, prefix);
      const failure = await paused(replica, () => bans.put(permanent('late'), T0).catch((error: unknown) => error));
      expect(failure).toBeInstanceOf(RedisReplicationError);
      expect((failure as Error).message).toBe(
        'the ban of key:late was written on the Redis master, but 0 of the 1 replica(s) waitForReplicas asks for had it within 200 ms: a failover now could lose it. ' +
          'Check that the replicas are up and in sync (INFO replication), then read it back and write it again if needed; or raise waitForReplicas.timeoutMs.',
      );
      expect(await bans.get({ type: 'key', key: 'late' })).toMatchObject({ kind: 'permanent' });
      // A conditional put that writes nothing does not wait for anything to fail.
      await paused(replica, async () => expect(await bans.put(permanent('late'), T0 + 1, { expectedVersion: null })).toBeNull());
    });

    it('refuses options that would wait forever or for nothing', () => {
      const scripts = scriptClientOf(fixture.connect());
      expect(() => new RedisBanStore(scripts, { waitForReplicas: { replicas: 1, timeoutMs: 0 } })).toThrow(
        'RedisBanStore: waitForReplicas.timeoutMs must be a positive integer (milliseconds; WAIT with 0 waits forever), got 0.',
      );
      expect(() => new RedisBanStore(scripts, { waitForReplicas: { replicas: 0, timeoutMs: 100 } })).toThrow(
        'RedisBanStore: waitForReplicas.replicas must be a positive integer, got 0.',
      );
      const withoutPipeline = scriptClientOf({ evalsha: () => Promise.resolve(null), eval: () => Promise.resolve(null) });
      expect(() => new RedisBanStore(withoutPipeline, { waitForReplicas: { replicas: 1, timeoutMs: 100 } })).toThrow(/needs an ioredis client or Cluster/);
    });
  });

  // Last: the bans' shard has no replica after it.
  describe('under load', () => {
    const bench = new ChaosBench(new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 5)));
    const LAST_MOMENT = 'banned-just-before';

    it('rides through by its outage policy, decides again after the takeover, and loses no ban', async () => {
      const prefix = 't:failover:';
      const storage = () => redisStorage({ client: fixture.connect(CLUSTER_OPTIONS), prefix, waitForReplicas: { replicas: 1, timeoutMs: 1_000 } });
      // A asks the store for every request, so that its strict client meets the failover.
      const a = await bench.startInstance(storage(), { denialCacheSize: 0 });
      const b = await bench.startInstance(storage(), { storeFallback: true });
      const { slot, master, replica } = await bansShard(fixture.connect(), prefix);
      const run = await runOutageUnderLoad(
        bench,
        a,
        b,
        {
          // A ban made the moment before the master of the bans dies.
          stop: async () => {
            await b.app.get(RateLimitService).ban({ type: 'key', key: LAST_MOMENT }, 'permanent', undefined, 'abuse', 'ops');
            await master.stop({ signal: 'SIGKILL' });
          },
          // Its replica takes over; nothing is restarted.
          restart: async () => {
            while ((await fixture.cluster.masterOf(slot).catch(() => undefined)) !== replica) await new Promise((resolve) => setTimeout(resolve, 20));
            bench.note(`replica ${replica.port} serves slot ${slot}`);
          },
          durationMs: 0,
        },
        { root: findRepoRoot(), figuresFile: 'cluster-failover-figures.json' },
      );
      try {
        // Unlike a whole server's outage, the dead master's keys do not fail at once: ioredis retries
        // them until the takeover (retryDelayOnFailover × maxRedirections, 1.6 s by default), so each
        // such request waits the whole storeTimeoutMs until the store is marked down, and the p99 is
        // that timeout itself: bounded here by it and a busy machine's timer delays.
        expectWithinBounds(bench, run, { outageP99Ms: STORE_TIMEOUT_MS + 150 });
        const c = await bench.startInstance(storage(), {});
        await expectStateKept(run, a, c);
        // The ban made just before the failover, on the instances running through it and on one started after it.
        await Promise.all([a, b].map((instance) => instance.app.get(RateLimitService).syncNow()));
        for (const instance of [a, b, c]) expect(await run.status(instance.base, '/open', LAST_MOMENT)).toBe(403);
        expect(await c.app.get(RateLimitService).getBan({ type: 'key', key: LAST_MOMENT })).toMatchObject({ kind: 'permanent' });
      } finally {
        run.close();
      }
    }, 60_000);
  });
});
