/**
 * What the chaos suites share, whatever the store: two app instances under load while the store's
 * server is stopped and started again, every response recorded with its phase and latency, the
 * figures of the run, and the bounds every store is held to.
 *
 * Instance A answers by each rule's `onStoreError` while the store is down; instance B counts in
 * its fallback memory store. Held: nothing crashes and no request fails; every response is one the
 * configuration allows in its phase; latency during the outage stays within storeTimeoutMs + 50 ms
 * at p99; each instance uses the store again within 5 s of the server's return; the ban and the
 * counters written before the outage still hold after it, on the running instances and on one
 * started afterwards.
 */
import { Controller, Get, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { RateLimitModule, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';
import { Rampart } from '../../lib/engine/rampart.js';
import { RateLimitService } from '../../lib/protection/rate-limit.service.js';
import type { RampartStorage } from '../../lib/storage/rampart-storage.interface.js';
import type { FakeClock } from '../support/fake-clock.js';

export const STORE_TIMEOUT_MS = 200;
export const STRICT_LIMIT = 5;
export const OPEN_LOOPS = 6;
export const BANNED = 'banned-client';

const clientId = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-client-id'] || undefined;

@Controller()
export class ChaosController {
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

export type Phase = 'before' | 'outage' | 'after';

export interface Sample {
  readonly app: 'A' | 'B';
  readonly path: string;
  readonly client: string;
  /** When it was sent; `outage` too for one sent before the server stopped and answered after. */
  readonly phase: Phase;
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly latencyMs: number;
  readonly startedAt: number;
  readonly error?: string;
}

export interface ChaosInstance {
  readonly app: INestApplication;
  readonly base: string;
  /** When (performance.now()) the instance saw its store come up, each time. */
  readonly upAtMs: number[];
  /** When it saw its store go down, each time. */
  readonly downAtMs: number[];
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One chaos suite's state: its apps (closed after the suite), its diagnostics (transitions of the
 * store and of the client's connection, written with the figures), and what reached the process's
 * last-resort handlers (a crash of a real process).
 */
export class ChaosBench {
  readonly apps: INestApplication[] = [];
  readonly diagnostics: string[] = [];
  readonly unexpected: string[] = [];
  private readonly onUnhandled = (error: unknown) => void this.unexpected.push(`unhandled: ${String(error)}`);

  constructor(readonly clock: FakeClock) {
    beforeAll(() => {
      process.on('unhandledRejection', this.onUnhandled);
      process.on('uncaughtException', this.onUnhandled);
    });
    afterAll(async () => {
      process.off('unhandledRejection', this.onUnhandled);
      process.off('uncaughtException', this.onUnhandled);
      for (const app of this.apps) await app.close().catch(() => undefined);
    });
  }

  /** Notes `event` with the time it happened. */
  note(event: string): void {
    this.diagnostics.push(`${Math.round(performance.now())} ${event}`);
  }

  /** A Nest app with ChaosController on `storage`, listening on a loopback port. */
  async startInstance(storage: RampartStorage, options: RateLimitModuleOptions): Promise<ChaosInstance> {
    const upAtMs: number[] = [];
    const downAtMs: number[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateLimitModule.forRoot({
          storage,
          rules: [],
          keyResolver: clientId,
          escalation: false,
          storeTimeoutMs: STORE_TIMEOUT_MS,
          clock: this.clock,
          events: {
            onStoreUp: () => {
              upAtMs.push(performance.now());
              this.note('storeUp');
            },
            onStoreDown: (e) => {
              downAtMs.push(performance.now());
              this.note(`storeDown ${e.reason}`);
            },
          },
          // Instance A answers by onStoreError (storeFallback's default before it became true); B sets it.
          storeFallback: false,
          ...options,
        }),
      ],
      controllers: [ChaosController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    this.apps.push(app);
    await app.listen(0, '127.0.0.1');
    return { app, base: await app.getUrl(), upAtMs, downAtMs };
  }
}

/** How a chaos run takes the store's server away and gives it back. */
export interface Outage {
  /** Stops the server (resolves once it is gone). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (resolves once it accepts connections). */
  restart(): Promise<void>;
  /** How long the server stays away. @default 1_500 */
  readonly durationMs?: number;
}

/** A finished run: what every request met, and the figures written for it. */
export interface OutageRun {
  readonly samples: Sample[];
  readonly figures: ChaosFigures;
  /** Sends one request as instance A's client would and resolves with its status. */
  status(base: string, path: string, client: string): Promise<number>;
  /** Closes the run's HTTP agent. */
  close(): void;
}

export interface ChaosFigures {
  readonly requests: number;
  readonly byPhase: Record<Phase, number>;
  readonly outageMs: number;
  readonly outageLatencyMs: { p50: number; p99: number; max: number };
  readonly recoveryMs: { A: number; B: number };
  readonly [more: string]: unknown;
}

/**
 * Bans BANNED through A, then puts both instances under load (three loops of /open clients, the
 * banned client and one strict client each), stops the server after a second, starts it again after
 * `outage.durationMs`, and waits until both instances use the store again (at most 5 s) and half a
 * second more. The figures are written to `.cache/<figuresFile>` under `root`.
 */
export async function runOutageUnderLoad(
  bench: ChaosBench,
  a: ChaosInstance,
  b: ChaosInstance,
  outage: Outage,
  output: { root: string; figuresFile: string },
): Promise<OutageRun> {
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
          // A request still in flight when the server stops meets the outage.
          phase: startedPhase === 'before' && phase !== 'before' ? 'outage' : startedPhase,
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
      if (pauseMs > 0) await sleep(pauseMs);
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

  // Under load with the store up, then the server goes away.
  await sleep(1_000);
  phase = 'outage';
  const stoppedAt = performance.now();
  bench.note('server stopping');
  await outage.stop();
  bench.note('server stopped');
  await sleep(outage.durationMs ?? 1_500);
  await outage.restart();
  const returnedAt = performance.now();
  bench.note('server back');
  const outageMs = returnedAt - stoppedAt;
  phase = 'after';
  const recoveredBy = returnedAt + 5_000;
  const healthOf = (instance: ChaosInstance) => instance.app.get(Rampart).health;
  while ((healthOf(a).isDown || healthOf(b).isDown) && performance.now() < recoveredBy) await sleep(20);
  await sleep(500);
  running = false;
  await Promise.all(loops);

  // From the server's return to the instance's last transition to up (0 if it was back before the
  // launcher saw the server listen, or never went down); Infinity when it is still down.
  const recovery = (instance: ChaosInstance) => {
    if (healthOf(instance).isDown) return Infinity;
    if (instance.upAtMs.length === 0) return instance.downAtMs.length === 0 ? 0 : Infinity;
    return Math.max(0, instance.upAtMs.at(-1)! - returnedAt);
  };
  const during = samples.filter((s) => s.phase === 'outage');
  const latencies = during.map((s) => s.latencyMs);
  const label = (s: Sample) => `${s.app} ${s.path}${s.client === BANNED ? ' (banned)' : ''} ${s.phase} ${s.status}`;
  const figures: ChaosFigures = {
    requests: samples.length,
    byPhase: { before: samples.filter((s) => s.phase === 'before').length, outage: during.length, after: samples.filter((s) => s.phase === 'after').length },
    outageMs: Math.round(outageMs),
    outageLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
    recoveryMs: { A: recovery(a), B: recovery(b) },
    marks: { stoppedAt: Math.round(stoppedAt), returnedAt: Math.round(returnedAt) },
    diagnostics: bench.diagnostics,
    slowDuringOutage: during
      .filter((s) => s.latencyMs > 100)
      .map((s) => `${Math.round(s.startedAt - stoppedAt)} ${Math.round(s.latencyMs)} ${s.app} ${s.path} ${s.client} ${s.status}`)
      .slice(0, 80),
    statuses: Object.fromEntries([...new Set(samples.map(label))].sort().map((key) => [key, samples.filter((s) => label(s) === key).length])),
  };
  mkdirSync(join(output.root, '.cache'), { recursive: true });
  writeFileSync(join(output.root, '.cache', output.figuresFile), `${JSON.stringify(figures, null, 2)}\n`);

  return {
    samples,
    figures,
    async status(base, path, client) {
      await get('A', base, path, client);
      return samples.at(-1)!.status;
    },
    close: () => agent.destroy(),
  };
}

/**
 * The bounds of a run: no crash and no failed request, load in every phase, every response one the
 * configuration allows in its phase, the strict limit never bypassed, p99 latency during the outage
 * within `outageP99Ms` (storeTimeoutMs + 50 ms unless said), and recovery within 5 s of the
 * server's return.
 */
export function expectWithinBounds(bench: ChaosBench, run: OutageRun, bounds: { outageP99Ms?: number } = {}): void {
  const { samples, figures } = run;
  // No crash, no failed request, every phase under load.
  expect(bench.unexpected).toEqual([]);
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
  const during = samples.filter((s) => s.phase === 'outage');
  expect(during.filter((s) => s.app === 'A' && s.path === '/strict').some((s) => s.status === 503)).toBe(true);

  // Latency during the outage, and recovery after the server's return.
  expect(figures.outageLatencyMs.p99).toBeLessThanOrEqual(bounds.outageP99Ms ?? STORE_TIMEOUT_MS + 50);
  expect(figures.recoveryMs.A).toBeLessThanOrEqual(5_000);
  expect(figures.recoveryMs.B).toBeLessThanOrEqual(5_000);
}

/**
 * After the run: an instance `c` started afterwards loads the ban and finds A's strict client's count
 * from the restarted server, and a fresh client on `a` is counted by the store again, exactly.
 */
export async function expectStateKept(run: OutageRun, a: ChaosInstance, c: ChaosInstance): Promise<void> {
  expect(await run.status(c.base, '/open', BANNED)).toBe(403); // loaded from the restarted server
  expect(await run.status(c.base, '/strict', 'strict-A')).toBe(429); // its count survived
  const fresh = [];
  for (let i = 0; i <= STRICT_LIMIT; i++) fresh.push(await run.status(a.base, '/strict', 'fresh-after'));
  expect(fresh).toEqual([...Array<number>(STRICT_LIMIT).fill(200), 429]);
}

/**
 * An instance started while its store's server is unreachable (`start(options)`): startup refuses
 * with `requireStore`, and starts within 2 s without it, answering by policy (`/open` admitted,
 * `/strict` 503); then `serverComes()` starts the server, and within 5 s the instance uses the store
 * and counts by it again. `whileUp(readyAfterMs)` runs with the server still up; the instance and
 * the server are closed after.
 */
export async function expectStartWithoutStore(
  start: (options: RateLimitModuleOptions) => Promise<ChaosInstance>,
  serverComes: () => Promise<{ close(): Promise<void> }>,
  whileUp: (readyAfterMs: number) => Promise<void> = async () => undefined,
): Promise<void> {
  await expect(start({ requireStore: true })).rejects.toThrow(
    /^RateLimitModule: the storage was not ready within storeStartupTimeoutMs \(300 ms\): timed out after 300 ms\./,
  );

  const startedAt = performance.now();
  const d = await start({});
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
  await sleep(1_200);
  const late = await serverComes();
  try {
    const cameAt = performance.now();
    while ((!protection.storageReady || protection.health.isDown) && performance.now() - cameAt < 5_000) await sleep(20);
    expect(protection.storageReady).toBe(true);
    expect(protection.health.isDown).toBe(false);
    const readyAfterMs = performance.now() - cameAt;
    const strict = [];
    for (let i = 0; i <= STRICT_LIMIT; i++) strict.push(await status('/strict', 'late'));
    expect(strict).toEqual([...Array<number>(STRICT_LIMIT).fill(200), 429]);
    await whileUp(readyAfterMs);
  } finally {
    await d.app.close();
    await late.close();
  }
}
