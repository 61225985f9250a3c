/**
 * The Redis server is stopped and started again while two app instances are under load: the chaos
 * suite of chaos.e2e.spec.ts (see chaos-load.ts for what is held) with `redisStorage` on a real
 * `redis-server` that keeps its data in an append-only file fsync'ed at every write, as a
 * persistent production Redis does, so that the counters and the ban survive its restart.
 *
 * Each instance has an ioredis client of its own with the options the README recommends for
 * Rampart (RAMPART_IOREDIS_OPTIONS below); figures of the last run go to
 * .cache/chaos-redis-figures.json.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { RateLimitModuleOptions } from '../../lib/index.js';
import { redisStorage } from '../../lib/storage/redis/index.js';
import { findRepoRoot } from '../harness/mongo-server.js';
import { freePort, startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { FakeClock } from '../support/fake-clock.js';
import { BANNED, ChaosBench, expectStartWithoutStore, expectStateKept, expectWithinBounds, runOutageUnderLoad, type ChaosInstance } from './chaos-load.js';

/**
 * A client that rides through an outage: commands fail at once while it is disconnected rather than
 * wait in the offline queue (the store is answered by its outage policy at once, and no decision
 * made for a request already answered runs on the server later), one retry for a command cut off
 * mid-way, reconnection attempts at most every 500 ms, and a connection attempt abandoned after a
 * second.
 */
const RAMPART_IOREDIS_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(times * 50, 500),
  connectTimeout: 1_000,
};

describe('chaos: the Redis server stops and restarts under load', () => {
  const root = findRepoRoot();
  const bench = new ChaosBench(new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 5)));
  const clients: Redis[] = [];
  let server: RedisServer | undefined;

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.dispose();
  });

  function connect(port: number, options: RedisOptions = RAMPART_IOREDIS_OPTIONS): Redis {
    // disconnectTimeout: at the end, a client whose server is gone is not waited for (2 s by default).
    const client = new Redis({ host: '127.0.0.1', port, disconnectTimeout: 50, ...options });
    const name = `client ${clients.length + 1}`;
    for (const event of ['ready', 'close', 'reconnecting', 'end']) client.on(event, () => bench.note(`${name} ${event}`));
    client.on('error', (error: Error) => bench.note(`${name} error ${error.message}`));
    clients.push(client);
    return client;
  }

  async function startInstance(options: RateLimitModuleOptions): Promise<ChaosInstance> {
    return bench.startInstance(redisStorage({ client: connect(server!.port) }), options);
  }

  it('keeps answering by policy through the outage, recovers within 5 s, and keeps the ban and counters', async () => {
    server = await startRedisServer({ persist: true });
    // A asks the store for every request, so that its strict client meets the outage (a denial it
    // remembered would answer that client 429 from memory throughout).
    const a = await startInstance({ denialCacheSize: 0 });
    const b = await startInstance({ storeFallback: true });
    const run = await runOutageUnderLoad(
      bench,
      a,
      b,
      // A crash (SIGKILL): what the append-only file holds is all that survives. The same port and
      // data directory afterwards: the clients reconnect by themselves.
      { stop: () => server!.stop({ signal: 'SIGKILL' }), restart: () => server!.start() },
      { root, figuresFile: 'chaos-redis-figures.json' },
    );
    try {
      expectWithinBounds(bench, run);
      // After it: the counters that were written before the outage, from the store again.
      await expectStateKept(run, a, await startInstance({}));
      const reader = redisStorage({ client: connect(server.port) });
      await reader.init();
      expect(await reader.bans.get({ type: 'key', key: BANNED })).toMatchObject({ kind: 'permanent', target: { type: 'key', key: BANNED } });
    } finally {
      run.close();
    }
  }, 60_000);

  it('starts while the server is unreachable, answers by policy, and takes the server up when it comes', async () => {
    const port = await freePort(); // nobody listens there, for now
    const quick = { storeStartupTimeoutMs: 300, banSyncIntervalMs: 100, storeProbeIntervalMs: 50 };
    const start = (options: RateLimitModuleOptions) => bench.startInstance(redisStorage({ client: connect(port) }), { ...quick, ...options });

    await expectStartWithoutStore(start, async () => {
      const late = await startRedisServer({ port });
      return { close: () => late.dispose() };
    });
  }, 30_000);
});
