/**
 * The database server is stopped and started again while two app instances are under load.
 *
 * The server is the mongo-java-server stand-in on its H2 backend, so its data (counters, the ban)
 * survives the restart in a file, as a real MongoDB's would. Instance A answers by each rule's
 * `onStoreError` while the store is down; instance B counts in its fallback memory store. Checked:
 * nothing crashes and no request fails; every response is one the configuration allows in its
 * phase; latency during the outage stays within storeTimeoutMs + 50 ms at p99; each instance uses
 * the store again within 5 s of the server's return; the ban and the counters written before the
 * outage still hold after it, on the running instances and on one started afterwards.
 *
 * Figures of the last run are written to .cache/chaos-figures.json.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose, { type ConnectOptions } from 'mongoose';
import { createServer } from 'node:net';
import type { RateLimitModuleOptions } from '../../lib/index.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { findRepoRoot, startMongoStandIn, type MongoStandIn } from '../harness/mongo-server.js';
import { FakeClock } from '../support/fake-clock.js';
import { BANNED, ChaosBench, expectStartWithoutStore, expectStateKept, expectWithinBounds, runOutageUnderLoad, type ChaosInstance } from './chaos-load.js';

describe('chaos: the database server stops and restarts under load', () => {
  const root = findRepoRoot();
  const h2File = join(tmpdir(), `rampart-chaos-${process.pid}-${randomBytes(4).toString('hex')}.mv`);
  const dbName = `chaos_${process.pid}`;
  const bench = new ChaosBench(new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 5)));
  let server: MongoStandIn | undefined;

  afterAll(async () => {
    await server?.stop();
    rmSync(h2File, { force: true });
  });

  async function startInstance(url: string, options: RateLimitModuleOptions, connectOptions: ConnectOptions = {}): Promise<ChaosInstance> {
    const storage = mongoStorage({ uri: url, connectOptions: { dbName, ...connectOptions }, sweepIntervalMs: false });
    for (const event of ['connected', 'disconnected', 'reconnected', 'error', 'close']) {
      storage.connection.on(event, (e?: Error) => bench.note(`${event} ${e?.message ?? ''}`));
    }
    return bench.startInstance(storage, options);
  }

  it('keeps answering by policy through the outage, recovers within 5 s, and keeps the ban and counters', async () => {
    server = await startMongoStandIn({ root, backend: `h2:${h2File}` });
    // A asks the store for every request, so that its strict client meets the outage (a denial it
    // remembered would answer that client 429 from memory throughout).
    const a = await startInstance(server.url, { denialCacheSize: 0 });
    const b = await startInstance(server.url, { storeFallback: true });
    const run = await runOutageUnderLoad(
      bench,
      a,
      b,
      {
        // A clean stop: H2 writes its file.
        stop: () => server!.stop(),
        // The same port and file: the driver finds it again by itself.
        restart: async () => {
          server = await startMongoStandIn({ root, backend: `h2:${h2File}`, port: server!.port });
        },
      },
      { root, figuresFile: 'chaos-figures.json' },
    );
    try {
      expectWithinBounds(bench, run);
      // After it: the counters that were written before the outage, from the store again.
      await expectStateKept(run, a, await startInstance(server.url, {}));
      const connection = await mongoose.createConnection(server.url, { dbName }).asPromise();
      try {
        expect(await connection.db!.collection('rampart_bans').findOne({ _id: `key:${BANNED}` } as never)).toMatchObject({ kind: 'permanent', target: BANNED });
      } finally {
        await connection.close();
      }
    } finally {
      run.close();
    }
  }, 60_000);

  it('starts while the server is unreachable, answers by policy, and takes the server up when it comes', async () => {
    // A port nobody listens on, for now.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `mongodb://127.0.0.1:${port}`;
    const quick = { serverSelectionTimeoutMS: 1_000 };

    const startup = { storeStartupTimeoutMs: 300, banSyncIntervalMs: 100, storeProbeIntervalMs: 50 };
    let server: MongoStandIn | undefined;
    await expectStartWithoutStore(
      (options) => startInstance(url, options.requireStore ? { requireStore: true, storeStartupTimeoutMs: 300 } : startup, quick),
      async () => {
        server = await startMongoStandIn({ root, port });
        return { close: () => server!.stop() };
      },
      async (readyAfterMs) => {
        writeFileSync(join(root, '.cache', 'chaos-startup-figures.json'), `${JSON.stringify({ readyAfterServerMs: Math.round(readyAfterMs) })}\n`);
        const connection = await mongoose.createConnection(server!.url, { dbName }).asPromise();
        try {
          const indexes = (await connection.db!.collection('rampart_bans').listIndexes().toArray()).map((index) => index['name']);
          expect(indexes).toEqual(expect.arrayContaining(['purgeAt_1', 'updatedAtMs_-1__id_-1']));
        } finally {
          await connection.close();
        }
      },
    );
  }, 60_000);
});
