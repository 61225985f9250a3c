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
import { Controller, Get, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose, { type ConnectOptions } from 'mongoose';
import { createServer } from 'node:net';
import { RateLimitModule, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';
import { Rampart } from '../../lib/engine/rampart.js';
import { RateLimitService } from '../../lib/protection/rate-limit.service.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { findRepoRoot, startMongoStandIn, type MongoStandIn } from '../harness/mongo-server.js';
import { FakeClock } from '../support/fake-clock.js';

const STORE_TIMEOUT_MS = 200;
const STRICT_LIMIT = 5;
const OPEN_LOOPS = 6;
const BANNED = 'banned-client';

const clientId = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-client-id'] || undefined;

@Controller()
class ChaosController {
  /** A generous limit that load never reaches: answered 200 whatever the store does (fail open). */
  @Throttle({ name: 'open', limit: 1_000_000, windowMs: 60_000, algorithm: 'fixed-window', onStoreError: 'allow' })
  @Get('open')
  open() {
    return { ok: true };
  }

  /** A tight limit that fails closed (503) while the store is down, unless the instance has a fallback. */
  @Throttle({ name: 'strict', limit: STRICT_LIMIT, windowMs: 60_000, algorithm: 'fixed-window', onStoreError: 'deny' })
  @Get('strict')
  strict() {
    return { ok: true };
  }
}

type Phase = 'before' | 'outage' | 'after';

interface Sample {
  readonly app: 'A' | 'B';
  readonly path: string;
  readonly client: string;
  readonly phase: Phase;
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly latencyMs: number;
  readonly startedAt: number;
  readonly error?: string;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('chaos: the database server stops and restarts under load', () => {
  const root = findRepoRoot();
  const h2File = join(tmpdir(), `rampart-chaos-${process.pid}-${randomBytes(4).toString('hex')}.mv`);
  const dbName = `chaos_${process.pid}`;
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 5));
  const apps: INestApplication[] = [];
  let server: MongoStandIn | undefined;
  const unexpected: string[] = [];
  const diagnostics: string[] = [];
  const onUnhandled = (error: unknown) => void unexpected.push(`unhandled: ${String(error)}`);

  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    for (const app of apps) await app.close().catch(() => undefined);
    await server?.stop();
    rmSync(h2File, { force: true });
  });

  async function startInstance(
    url: string,
    options: RateLimitModuleOptions,
    connectOptions: ConnectOptions = {},
  ): Promise<{ app: INestApplication; base: string; upAtMs: number[] }> {
    const upAtMs: number[] = [];
    const storage = mongoStorage({ uri: url, connectOptions: { dbName, ...connectOptions }, sweepIntervalMs: false });
    for (const event of ['connected', 'disconnected', 'reconnected', 'error', 'close']) {
      storage.connection.on(event, (e?: Error) => void diagnostics.push(`${Math.round(performance.now())} ${event} ${e?.message ?? ''}`));
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateLimitModule.forRoot({
          storage,
          rules: [],
          keyResolver: clientId,
          escalation: false,
          storeTimeoutMs: STORE_TIMEOUT_MS,
          clock,
          events: {
            onStoreUp: () => {
              upAtMs.push(performance.now());
              diagnostics.push(`${Math.round(performance.now())} storeUp`);
            },
            onStoreDown: (e) => void diagnostics.push(`${Math.round(performance.now())} storeDown ${e.reason}`),
          },
          // Instance A answers by onStoreError (storeFallback's default before it became true); B sets it.
          storeFallback: false,
          ...options,
        }),
      ],
      controllers: [ChaosController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return { app, base: await app.getUrl(), upAtMs };
  }

  it('keeps answering by policy through the outage, recovers within 5 s, and keeps the ban and counters', async () => {
    server = await startMongoStandIn({ root, backend: `h2:${h2File}` });
    // A asks the store for every request, so that its strict client meets the outage (a denial it
    // remembered would answer that client 429 from memory throughout).
    const a = await startInstance(server.url, { denialCacheSize: 0 });
    const b = await startInstance(server.url, { storeFallback: true });
    await a.app.get(RateLimitService).ban({ type: 'key', key: BANNED }, 'permanent', undefined, 'abuse', 'ops');
    await b.app.get(RateLimitService).syncNow();

    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const samples: Sample[] = [];
    let phase: Phase = 'before';
    const get = (app: 'A' | 'B', base: string, path: string, client: string) =>
      new Promise<void>((resolve) => {
        const startedPhase = phase;
        const startedAt = performance.now();
        const record = (status: number, retryAfter: string | undefined, error?: string) => {
          samples.push({
            app,
            path,
            client,
            phase: startedPhase,
            status,
            retryAfter,
            latencyMs: performance.now() - startedAt,
            startedAt,
            ...(error ? { error } : {}),
          });
          resolve();
        };
        const req = httpRequest(`${base}${path}`, { agent, headers: { 'x-client-id': client } }, (res) => {
          res.resume();
          res.on('end', () => record(res.statusCode ?? 0, res.headers['retry-after'] as string | undefined));
        });
        req.on('error', (error) => record(0, undefined, error.message));
        req.end();
      });

    let running = true;
    const loop = async (app: 'A' | 'B', base: string, path: string, client: (i: number) => string, pauseMs = 0) => {
      for (let i = 0; running; i++) {
        await get(app, base, path, client(i));
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    };
    const loops: Array<Promise<void>> = [];
    for (const [name, instance] of [
      ['A', a],
      ['B', b],
    ] as const) {
      for (let n = 0; n < OPEN_LOOPS / 2; n++) loops.push(loop(name, instance.base, '/open', (i) => `open-${name}-${n}-${i % 50}`));
      loops.push(loop(name, instance.base, '/open', () => BANNED, 5));
      // One strict client per instance, a request every 25 ms: over its limit before the outage ends.
      loops.push(loop(name, instance.base, '/strict', () => `strict-${name}`, 25));
    }
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    // Under load with the store up, then the server goes away (a clean stop: H2 writes its file).
    await sleep(1_000);
    phase = 'outage';
    const stoppedAt = performance.now();
    await server.stop();
    await sleep(1_500);
    // The same port and file: the driver finds it again by itself.
    server = await startMongoStandIn({ root, backend: `h2:${h2File}`, port: server.port });
    const returnedAt = performance.now();
    const outageMs = returnedAt - stoppedAt;
    phase = 'after';
    const recoveredBy = returnedAt + 5_000;
    const healthOf = (instance: { app: INestApplication }) => instance.app.get(Rampart).health;
    while ((healthOf(a).isDown || healthOf(b).isDown) && performance.now() < recoveredBy) await sleep(20);
    await sleep(500);
    running = false;
    await Promise.all(loops);

    // From the server's return to the instance's last transition to up (0 if it was back before the
    // launcher saw the server listen); Infinity when it is still down.
    const recovery = (instance: { app: INestApplication; upAtMs: number[] }) =>
      healthOf(instance).isDown || instance.upAtMs.length === 0 ? Infinity : Math.max(0, instance.upAtMs.at(-1)! - returnedAt);
    const recoveryMs = { A: recovery(a), B: recovery(b) };
    const during = samples.filter((s) => s.phase === 'outage');
    const latencies = during.map((s) => s.latencyMs);
    const figures = {
      requests: samples.length,
      byPhase: { before: samples.filter((s) => s.phase === 'before').length, outage: during.length, after: samples.filter((s) => s.phase === 'after').length },
      outageMs: Math.round(outageMs),
      outageLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
      recoveryMs,
      marks: { stoppedAt: Math.round(stoppedAt), returnedAt: Math.round(returnedAt) },
      diagnostics,
      slowDuringOutage: during
        .filter((s) => s.latencyMs > 100)
        .map((s) => `${Math.round(s.startedAt - stoppedAt)} ${Math.round(s.latencyMs)} ${s.app} ${s.path} ${s.client} ${s.status}`)
        .slice(0, 80),
      statuses: Object.fromEntries(
        [...new Set(samples.map((s) => `${s.app} ${s.path}${s.client === BANNED ? ' (banned)' : ''} ${s.phase} ${s.status}`))]
          .sort()
          .map((key) => [key, samples.filter((s) => `${s.app} ${s.path}${s.client === BANNED ? ' (banned)' : ''} ${s.phase} ${s.status}` === key).length]),
      ),
    };
    mkdirSync(join(root, '.cache'), { recursive: true });
    writeFileSync(join(root, '.cache', 'chaos-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);

    // No crash, no failed request, every phase under load.
    expect(unexpected).toEqual([]);
    expect(samples.filter((s) => s.error !== undefined || (s.status >= 500 && s.status !== 503))).toEqual([]);
    expect(figures.byPhase.before).toBeGreaterThan(50);
    expect(figures.byPhase.outage).toBeGreaterThan(100);
    expect(figures.byPhase.after).toBeGreaterThan(50);

    // Every response within the configured policy.
    const outside = samples.filter((s) => {
      if (s.client === BANNED) return s.status !== 403; // banned before the outage: refused throughout
      if (s.path === '/open') return s.status !== 200; // never near its limit, fails open
      if (s.status === 503) return !(s.app === 'A' && s.phase !== 'before' && s.retryAfter === '1'); // A fails closed while down
      return s.status !== 200 && s.status !== 429;
    });
    expect(outside).toEqual([]);
    // The strict limit is never bypassed: on A at most its limit over the whole run (the store's count,
    // kept across the restart); on B at most the limit once more, from the fallback while down.
    const admitted = (app: 'A' | 'B') => samples.filter((s) => s.app === app && s.path === '/strict' && s.status === 200).length;
    expect(admitted('A')).toBe(STRICT_LIMIT);
    expect(admitted('B')).toBeLessThanOrEqual(2 * STRICT_LIMIT);
    expect(during.filter((s) => s.app === 'A' && s.path === '/strict').some((s) => s.status === 503)).toBe(true);

    // Latency during the outage, and recovery after the server's return.
    expect(figures.outageLatencyMs.p99).toBeLessThanOrEqual(STORE_TIMEOUT_MS + 50);
    expect(recoveryMs.A).toBeLessThanOrEqual(5_000);
    expect(recoveryMs.B).toBeLessThanOrEqual(5_000);

    // After it: the counters that were written before the outage, from the store again.
    const c = await startInstance(server.url, {});
    const statusOf = async (base: string, path: string, client: string) => {
      await get('A', base, path, client);
      return samples.at(-1)!.status;
    };
    expect(await statusOf(c.base, '/open', BANNED)).toBe(403); // loaded from the restarted server
    expect(await statusOf(c.base, '/strict', 'strict-A')).toBe(429); // its count survived
    const fresh = [];
    for (let i = 0; i <= STRICT_LIMIT; i++) fresh.push(await statusOf(a.base, '/strict', 'fresh-after'));
    expect(fresh).toEqual([...Array<number>(STRICT_LIMIT).fill(200), 429]);
    const connection = await mongoose.createConnection(server.url, { dbName }).asPromise();
    try {
      expect(await connection.db!.collection('rampart_bans').findOne({ _id: `key:${BANNED}` } as never)).toMatchObject({ kind: 'permanent', target: BANNED });
    } finally {
      await connection.close();
      agent.destroy();
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

    await expect(startInstance(url, { requireStore: true, storeStartupTimeoutMs: 300 }, quick)).rejects.toThrow(
      /^RateLimitModule: the storage was not ready within storeStartupTimeoutMs \(300 ms\): timed out after 300 ms\./,
    );

    const startedAt = performance.now();
    const d = await startInstance(url, { storeStartupTimeoutMs: 300, banSyncIntervalMs: 100, storeProbeIntervalMs: 50 }, quick);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    const protection = d.app.get(Rampart);
    expect(protection.storageReady).toBe(false);
    const status = async (path: string, client: string) => {
      const response = await fetch(`${d.base}${path}`, { headers: { 'x-client-id': client } });
      await response.arrayBuffer();
      return response.status;
    };
    expect(await status('/open', 'early')).toBe(200);
    expect(await status('/strict', 'early')).toBe(503);

    // Let a connection attempt or two fail first, then the server comes.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const late = await startMongoStandIn({ root, port });
    try {
      const cameAt = performance.now();
      while ((!protection.storageReady || protection.health.isDown) && performance.now() - cameAt < 5_000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(protection.storageReady).toBe(true);
      expect(protection.health.isDown).toBe(false);
      writeFileSync(join(root, '.cache', 'chaos-startup-figures.json'), `${JSON.stringify({ readyAfterServerMs: Math.round(performance.now() - cameAt) })}\n`);
      const strict = [];
      for (let i = 0; i <= STRICT_LIMIT; i++) strict.push(await status('/strict', 'late'));
      expect(strict).toEqual([...Array<number>(STRICT_LIMIT).fill(200), 429]);
      const connection = await mongoose.createConnection(late.url, { dbName }).asPromise();
      try {
        const indexes = (await connection.db!.collection('rampart_bans').listIndexes().toArray()).map((index) => index['name']);
        expect(indexes).toEqual(expect.arrayContaining(['purgeAt_1', 'updatedAtMs_-1__id_-1']));
      } finally {
        await connection.close();
      }
    } finally {
      await d.app.close();
      await late.stop();
    }
  }, 60_000);
});
