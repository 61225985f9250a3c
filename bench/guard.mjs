// The cost of one rate-limit decision, in process: each guard's `canActivate` is called on the same
// prepared execution contexts of 1,000 clients, side by side in one run, with no HTTP, sockets or
// load generator to add noise. Cases: no guard (the loop alone), an empty guard, @nestjs/throttler's
// ThrottlerGuard on its own storage (one and three throttlers), Rampart's guard on the memory store
// (one and three rules), and Rampart's engine called directly. Rampart's guard also runs with its
// statistics off (`stats: false`), with the Prometheus metrics of nest-rampart/metrics registered
// (which time every store call), and with an adaptive rule (`adaptive: true`: each client's limit
// from its state, held in memory), beside its default (statistics on, no metrics, no adaptive limit).
//
// Run: npm run bench:guard        (builds, then node --expose-gc bench/guard.mjs)
//
// The limiters' guards come from real Nest application contexts (their modules' forRoot, one
// controller with a decorated handler). A round builds every case afresh (empty stores), then each client makes
// BENCH_GUARD_REQUESTS_PER_CLIENT requests in turn: @nestjs/throttler's storage keeps one timestamp
// per request of a key within its window, so its cost grows with that number; 50 is about what a key
// sees in the HTTP benchmark (bench/http.mjs). Every decision must admit (the limits are far out of
// reach): this measures the admit path. Rounds alternate the order of the cases; the warm-up rounds
// are not counted, and each case reports the median over the measured rounds, of elapsed time and of the
// process's CPU time (user + system) per decision: the latter is much less disturbed by other load on
// a shared machine.
//
// Environment: BENCH_GUARD_ROUNDS (default 7), BENCH_GUARD_WARMUP_ROUNDS (2), BENCH_GUARD_CLIENTS
// (1000), BENCH_GUARD_REQUESTS_PER_CLIENT (50), BENCH_GUARD_CASES (comma-separated case ids; default
// all). A smoke run: BENCH_GUARD_ROUNDS=1 BENCH_GUARD_WARMUP_ROUNDS=0 BENCH_GUARD_REQUESTS_PER_CLIENT=5.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as rampart from 'nest-rampart';
import { registerRampartMetrics } from 'nest-rampart/metrics';
import { Registry } from 'prom-client';

if (typeof globalThis.gc !== 'function') {
  console.error('Run with node --expose-gc, so that every measured round starts from a collected heap.');
  process.exit(2);
}

const ROUNDS = positiveInteger('BENCH_GUARD_ROUNDS', 7);
const WARMUP_ROUNDS = positiveInteger('BENCH_GUARD_WARMUP_ROUNDS', 2, 0);
const CLIENTS = positiveInteger('BENCH_GUARD_CLIENTS', 1000);
const REQUESTS_PER_CLIENT = positiveInteger('BENCH_GUARD_REQUESTS_PER_CLIENT', 50);
const DECISIONS = CLIENTS * REQUESTS_PER_CLIENT;
const NEVER_DENY = 1e9;
/** Three windows for the three-rule cases: per second, per minute, per hour. */
const WINDOWS_MS = [1_000, 60_000, 3_600_000];

function positiveInteger(name, fallback, min = 1) {
  const value = process.env[name] === undefined ? fallback : Number(process.env[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${process.env[name]}`);
  return value;
}

// ---- the app ------------------------------------------------------------------------------------

class BenchController {
  one() {
    return { hello: 'world' };
  }
}
Controller('bench')(BenchController);
Get('one')(BenchController.prototype, 'one', Object.getOwnPropertyDescriptor(BenchController.prototype, 'one'));
const HANDLER = BenchController.prototype.one;
/** What Rampart's engine is told the request targets: the route key its rules count per. */
const ENGINE_TARGET = 'BenchController.one';

class EmptyGuard {
  canActivate() {
    return true;
  }
}

/** A Nest application context of the controller and `imports`, and the guard it holds; `prepare(app)` runs before it is measured. */
async function guardOf(imports, providers, guardClass, prepare = () => undefined) {
  class BenchModule {}
  Module({ imports, controllers: [BenchController], providers })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
  prepare(app);
  return { subject: app.get(guardClass), close: () => app.close() };
}

const throttlerGuard = (windowsMs) =>
  guardOf(
    [ThrottlerModule.forRoot({ throttlers: windowsMs.map((ttl, i) => ({ name: windowsMs.length === 1 ? 'default' : `t${i}`, ttl, limit: NEVER_DENY })) })],
    [ThrottlerGuard],
    ThrottlerGuard,
  );

/**
 * Rampart's guard; `stats: false` switches its statistics off, `metrics: true` registers the
 * Prometheus metrics (in a registry of their own) as RampartMetricsModule would.
 */
const rampartGuard = (windowsMs, { stats = true, metrics = false, routes, adaptive = false } = {}) =>
  guardOf(
    [
      rampart.RateLimitModule.forRoot({
        rules: windowsMs.map((windowMs, i) => ({
          name: windowsMs.length === 1 ? 'default' : `r${i}`,
          limit: NEVER_DENY,
          windowMs,
          ...(adaptive ? { adaptive: true } : {}),
        })),
        registerGlobalGuard: false,
        env: false,
        ...(stats ? {} : { stats: false }),
        ...(routes ? { routes, excludePaths: [...rampart.DEFAULT_EXCLUDED_PATHS] } : {}),
      }),
    ],
    [],
    rampart.RateLimitGuard,
    (app) => {
      if (metrics) registerRampartMetrics(app.get(rampart.Rampart), { registry: new Registry() });
    },
  );

/** Rampart's engine without Nest (`createRampart`, as `nest-rampart/engine` serves it). */
async function rampartEngine() {
  const engine = rampart.createRampart({ rules: [{ limit: NEVER_DENY, windowMs: WINDOWS_MS[1] }] });
  await engine.start();
  return { subject: engine, close: () => engine.stop() };
}

// ---- the cases ----------------------------------------------------------------------------------

const AsyncFunction = (async () => {}).constructor;

/**
 * Route entries of a configuration file: 19 that a request to /bench/one does not match, each
 * tried in turn (after the 5 excluded paths), then one that does, with the rule of the other cases.
 */
const ROUTE_ENTRIES = [
  ...Array.from({ length: 19 }, (_, i) => ({ path: `^/api/v${i}/items/\\d+`, rules: [{ name: `r${i}`, limit: NEVER_DENY, windowMs: WINDOWS_MS[1] }] })),
  { path: '^/bench/', rules: [{ name: 'default', limit: NEVER_DENY, windowMs: WINDOWS_MS[1] }] },
];

/**
 * The measuring loop of one case, compiled from source for that case alone, so that its call sites
 * only ever see one guard (a loop shared by every case would turn megamorphic and slow all of them
 * down). It awaits a decision only when it is a promise, and counts decisions that did not admit.
 */
function compileLoop(decide, admitted) {
  return new AsyncFunction(
    'subject',
    'inputs',
    'count',
    `let refused = 0;
    const size = inputs.length;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0, k = 0; i < count; i++) {
      const input = inputs[k];
      if (++k === size) k = 0;
      let decision = ${decide};
      if (typeof decision === 'object' && decision !== null && typeof decision.then === 'function') decision = await decision;
      if (!(${admitted})) refused++;
    }
    const ns = Number(process.hrtime.bigint() - started);
    const used = process.cpuUsage(cpu);
    return { ns, cpuNs: (used.user + used.system) * 1000, refused };`,
  );
}

const guardLoop = () => compileLoop('subject.canActivate(input)', 'decision === true');

const CASES = [
  {
    id: 'none',
    label: 'no guard (the loop alone)',
    inputs: 'contexts',
    setup: async () => ({ subject: null }),
    loop: compileLoop('true', 'decision === true'),
  },
  { id: 'empty-guard', label: 'empty guard (returns true)', inputs: 'contexts', setup: async () => ({ subject: new EmptyGuard() }), loop: guardLoop() },
  { id: 'throttler', label: '@nestjs/throttler, 1 throttler', inputs: 'contexts', setup: () => throttlerGuard(WINDOWS_MS.slice(1, 2)), loop: guardLoop() },
  { id: 'throttler-3', label: '@nestjs/throttler, 3 throttlers', inputs: 'contexts', setup: () => throttlerGuard(WINDOWS_MS), loop: guardLoop() },
  { id: 'rampart', label: 'Rampart guard, memory store, 1 rule', inputs: 'contexts', setup: () => rampartGuard(WINDOWS_MS.slice(1, 2)), loop: guardLoop() },
  {
    id: 'rampart-no-stats',
    label: 'Rampart guard, memory store, 1 rule, stats: false',
    inputs: 'contexts',
    setup: () => rampartGuard(WINDOWS_MS.slice(1, 2), { stats: false }),
    loop: guardLoop(),
  },
  {
    id: 'rampart-metrics',
    label: 'Rampart guard, memory store, 1 rule, Prometheus metrics',
    inputs: 'contexts',
    setup: () => rampartGuard(WINDOWS_MS.slice(1, 2), { metrics: true }),
    loop: guardLoop(),
  },
  {
    id: 'rampart-routes',
    label: 'Rampart guard, memory store, 1 rule, 20 route entries (the last matches)',
    inputs: 'contexts',
    setup: () => rampartGuard(WINDOWS_MS.slice(1, 2), { routes: ROUTE_ENTRIES }),
    loop: guardLoop(),
  },
  {
    id: 'rampart-adaptive',
    label: 'Rampart guard, memory store, 1 rule, adaptive',
    inputs: 'contexts',
    setup: () => rampartGuard(WINDOWS_MS.slice(1, 2), { adaptive: true }),
    loop: guardLoop(),
  },
  { id: 'rampart-3', label: 'Rampart guard, memory store, 3 rules', inputs: 'contexts', setup: () => rampartGuard(WINDOWS_MS), loop: guardLoop() },
  // Optional: reported as n/a (with the reason) when the built package has no engine or it fails to start.
  {
    id: 'engine',
    label: 'Rampart engine, decide(), 1 rule',
    inputs: 'engineRequests',
    setup: rampartEngine,
    optional: true,
    loop: compileLoop('subject.decide(input)', "decision?.outcome === 'admitted'"),
  },
].filter((spec) => (process.env.BENCH_GUARD_CASES ? process.env.BENCH_GUARD_CASES.split(',').includes(spec.id) : true));

// ---- the clients --------------------------------------------------------------------------------

const addressOf = (i) => `10.0.${i >> 8}.${i & 255}`;

/**
 * One execution context per client, as Nest builds them for an HTTP request on Express. The request
 * carries what the guards read (socket peer, `ip`, headers, method); both limiters tell clients apart
 * by address, as they do by default (@nestjs/throttler by `ip`, Rampart by the socket peer). The response is a real Node
 * `ServerResponse` (Express's is one): both guards write their headers into it with `setHeader`.
 * (Express's `res.header`, which @nestjs/throttler prefers, would add its own cost to that guard only.)
 */
function prepareContexts() {
  return Array.from({ length: CLIENTS }, (_, i) => {
    const address = addressOf(i);
    const request = { method: 'GET', url: '/bench/one', headers: { host: 'localhost' }, ip: address, socket: { remoteAddress: address } };
    const response = new ServerResponse(new IncomingMessage(new Socket()));
    const context = new ExecutionContextHost([request, response, () => {}], BenchController, HANDLER);
    context.setType('http');
    // switchToHttp() adds three methods to the context the first time: give every context its final
    // shape now, so that the order in which guards first meet it changes nothing.
    context.switchToHttp();
    return context;
  });
}

const prepareEngineRequests = () =>
  Array.from({ length: CLIENTS }, (_, i) => ({ target: ENGINE_TARGET, address: addressOf(i), protocol: 'http', method: 'GET' }));

// ---- main ---------------------------------------------------------------------------------------

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const round = (n, digits = 1) => (n === null || n === undefined ? null : Number(n.toFixed(digits)) + 0); // + 0: no -0

/** Why an optional case could not run, by case id. */
const unavailable = new Map();

/** A fresh instance of a case; undefined (the reason kept in `unavailable`) when an optional case cannot run. */
async function start(spec) {
  try {
    const instance = await spec.setup();
    if (instance.unavailable) unavailable.set(spec.id, instance.unavailable);
    return instance.unavailable ? undefined : instance;
  } catch (error) {
    if (!spec.optional) throw error;
    process.stderr.write(`bench:guard: ${spec.label}: could not start: ${error instanceof Error ? error.stack : error}\n`);
    unavailable.set(spec.id, `could not start: ${error instanceof Error ? error.message : error}`);
    return undefined;
  }
}

/** One measurement of one case: a fresh instance, a collected heap, DECISIONS decisions. */
async function measure(spec, inputs) {
  const instance = await start(spec);
  if (instance === undefined) return undefined;
  try {
    globalThis.gc();
    const { ns, cpuNs, refused } = await spec.loop(instance.subject, inputs[spec.inputs], DECISIONS);
    if (refused > 0) throw new Error(`${spec.label}: ${refused} of ${DECISIONS} decisions did not admit; this benchmark measures the admit path`);
    return { ns: ns / DECISIONS, cpuNs: cpuNs / DECISIONS };
  } finally {
    await instance.close?.();
  }
}

async function main() {
  const load1 = loadavg()[0];
  const started = Date.now();
  const inputs = { contexts: prepareContexts(), engineRequests: prepareEngineRequests() };
  const nsByRound = Object.fromEntries(CASES.map((spec) => [spec.id, []]));
  /** The process's CPU time per decision (user + system), which other load on the machine hardly changes. */
  const cpuNsByRound = Object.fromEntries(CASES.map((spec) => [spec.id, []]));
  for (let pass = 0; pass < WARMUP_ROUNDS + ROUNDS; pass++) {
    const warmup = pass < WARMUP_ROUNDS;
    process.stderr.write(`bench:guard: ${warmup ? `warm-up round ${pass + 1}/${WARMUP_ROUNDS}` : `round ${pass - WARMUP_ROUNDS + 1}/${ROUNDS}`} ...\n`);
    for (const spec of pass % 2 === 0 ? CASES : [...CASES].reverse()) {
      if (unavailable.has(spec.id)) continue;
      const measured = await measure(spec, inputs);
      if (measured !== undefined && !warmup) {
        nsByRound[spec.id].push(measured.ns);
        cpuNsByRound[spec.id].push(measured.cpuNs);
      }
    }
  }
  report(nsByRound, cpuNsByRound, Date.now() - started, load1);
}

function report(nsByRound, cpuNsByRound, elapsedMs, load1) {
  const results = {};
  for (const spec of CASES) {
    const rounds = nsByRound[spec.id];
    results[spec.id] =
      rounds.length === 0
        ? { label: spec.label, nsPerDecision: null, unavailable: unavailable.get(spec.id) ?? 'not run' }
        : { label: spec.label, nsPerDecision: median(rounds), nsByRound: rounds, cpuNsPerDecision: median(cpuNsByRound[spec.id]) };
  }
  const base = results.none?.nsPerDecision ?? null;
  const added = (id) => (base === null || results[id]?.nsPerDecision == null ? null : results[id].nsPerDecision - base);
  const per = (a, b) => (a === null || b === null || b <= 0 ? null : a / b);
  for (const [id, row] of Object.entries(results)) {
    row.addedNs = added(id);
    row.addedVsThrottler = per(added(id), added('throttler'));
  }

  console.log(
    `\nGuard benchmark: canActivate on prepared execution contexts, in process; ${CLIENTS} clients × ${REQUESTS_PER_CLIENT} requests = ${DECISIONS.toLocaleString('en')} decisions per round, fresh stores each round; median of ${ROUNDS} round(s) after ${WARMUP_ROUNDS} warm-up round(s).`,
  );
  console.log(
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} CPUs, load average ${load1.toFixed(2)} at start; Node ${process.version}.`,
  );
  if (ROUNDS < 5) console.log(`!! Only ${ROUNDS} round(s): a smoke run, not a measurement.`);
  console.log("added ns: over no guard; added ÷ throttler's: over @nestjs/throttler's with 1 throttler.");
  const table = {};
  for (const row of Object.values(results)) {
    const [min, max] = row.nsByRound ? [Math.min(...row.nsByRound), Math.max(...row.nsByRound)] : [];
    table[row.label] =
      row.nsPerDecision === null
        ? { 'ns/decision': `n/a (${row.unavailable})` }
        : {
            'ns/decision': round(row.nsPerDecision),
            'CPU ns/decision': round(row.cpuNsPerDecision),
            'rounds min–max': `${round(min)}–${round(max)}`,
            'added ns': round(row.addedNs),
            "added ÷ throttler's": row.addedNs === 0 ? '' : (round(row.addedVsThrottler, 3) ?? ''),
          };
  }
  console.table(table);

  const ratios = {
    rampartAddedVsThrottlerAdded: per(added('rampart'), added('throttler')),
    rampartThreeRulesAddedVsThrottlerThreeAdded: per(added('rampart-3'), added('throttler-3')),
    engineAddedVsThrottlerAdded: per(added('engine'), added('throttler')),
    rampartAddedVsEmptyGuardAdded: per(added('rampart'), added('empty-guard')),
    // The observability's own cost: statistics (the default) over none, metrics over statistics alone.
    rampartStatsVsNoStats: per(results.rampart?.nsPerDecision ?? null, results['rampart-no-stats']?.nsPerDecision ?? null),
    rampartMetricsVsStats: per(results['rampart-metrics']?.nsPerDecision ?? null, results.rampart?.nsPerDecision ?? null),
    rampartMetricsVsNoStats: per(results['rampart-metrics']?.nsPerDecision ?? null, results['rampart-no-stats']?.nsPerDecision ?? null),
    // Route entries by path (20, the last matching) over the handler's rules alone.
    rampartRoutesVsRampart: per(results['rampart-routes']?.nsPerDecision ?? null, results.rampart?.nsPerDecision ?? null),
    // An adaptive rule (on) over the same rule without it (off).
    rampartAdaptiveVsRampart: per(results['rampart-adaptive']?.nsPerDecision ?? null, results.rampart?.nsPerDecision ?? null),
    // The same from CPU time, which a busy machine disturbs less than elapsed time.
    rampartStatsVsNoStatsCpu: per(results.rampart?.cpuNsPerDecision ?? null, results['rampart-no-stats']?.cpuNsPerDecision ?? null),
    rampartMetricsVsStatsCpu: per(results['rampart-metrics']?.cpuNsPerDecision ?? null, results.rampart?.cpuNsPerDecision ?? null),
    rampartAdaptiveVsRampartCpu: per(results['rampart-adaptive']?.cpuNsPerDecision ?? null, results.rampart?.cpuNsPerDecision ?? null),
  };
  const target = ratios.rampartAddedVsThrottlerAdded;
  const targets = [
    {
      target: "Rampart guard's added cost per decision <= 0.5x @nestjs/throttler's (1 rule)",
      value: round(target, 3),
      met: target === null ? null : target <= 0.5,
    },
  ];
  console.log('\nRatios of added cost (ns per decision over no guard):');
  for (const [name, value] of Object.entries(ratios)) console.log(`  ${name}: ${value === null ? 'n/a' : round(value, 3)}`);
  console.log('Targets:');
  for (const t of targets) console.log(`  [${t.met === null ? 'n/a' : t.met ? 'MET' : 'NOT MET'}] ${t.target} (measured ${t.value ?? 'n/a'})`);

  const json = {};
  for (const [id, row] of Object.entries(results)) {
    json[id] = {
      ...row,
      nsPerDecision: round(row.nsPerDecision),
      cpuNsPerDecision: round(row.cpuNsPerDecision),
      ...(row.nsByRound ? { nsByRound: row.nsByRound.map((ns) => round(ns)) } : {}),
      addedNs: round(row.addedNs),
      addedVsThrottler: round(row.addedVsThrottler, 3),
    };
  }
  console.log(
    JSON.stringify({
      bench: 'guard',
      clients: CLIENTS,
      requestsPerClient: REQUESTS_PER_CLIENT,
      decisionsPerRound: DECISIONS,
      rounds: ROUNDS,
      warmupRounds: WARMUP_ROUNDS,
      machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model ?? null, node: process.version, loadAverageAtStart: round(load1, 2) },
      cases: json,
      ratios: Object.fromEntries(Object.entries(ratios).map(([name, value]) => [name, round(value, 3)])),
      targets,
      elapsedS: round(elapsedMs / 1000),
    }),
  );
}

main().catch((error) => {
  console.error('bench/guard.mjs failed:', error);
  process.exitCode = 1;
});
