// GraphQL throughput and latency of the same Nest app (Apollo on Express, code first) with no
// limiter, with Rampart's guard counting each root field (memory store), with the guard plus
// rampartGraphql's checks before execution (depth, complexity, a complexity budget), and, for
// reference, with a global guard that does nothing (what Nest's guard machinery costs). The operation
// is `{ hello posts { id title } }`: two root fields, so two decisions per operation with Rampart.
// Each case runs in a fresh child process (this script with BENCH_GRAPHQL_CASE set); autocannon
// drives it over loopback from this process.
//
// Run: npm run build && node bench/graphql.mjs        (npm run bench runs it with the others)
//
// Every case runs BENCH_ROUNDS times (default 5; every other round in reverse order, so that no case
// always runs first or last); each figure is the median over the rounds, and the ratios are computed
// from those medians: throughput, and the app process's CPU time per operation (read from /proc),
// which other work on a shared machine disturbs less. Environment: BENCH_DURATION_S (default 5), BENCH_WARMUP_S (1),
// BENCH_CONNECTIONS (20), BENCH_ROUNDS (5). BENCH_ROUNDS=1 BENCH_DURATION_S=1 BENCH_WARMUP_S=0 is a
// smoke run (its figures mean nothing).
import 'reflect-metadata';
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const CLIENT_HEADER = 'x-client-id';
const QUERY = '{ hello posts { id title } }';
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be an integer >= 1, got ${process.env.BENCH_ROUNDS}`);
/** Operations run in process, after a quarter as many to warm up. */
const IN_PROCESS_OPS = Number(process.env.BENCH_IN_PROCESS_OPS ?? 20_000);
/** Each connection speaks for clients of its own, round-robin. */
const KEYS_PER_CONNECTION = 20;

const CASES = [
  { id: 'none', label: '1. no limiter' },
  { id: 'rampart', label: '2. Rampart guard on each root field (memory store)' },
  { id: 'rampart-limits', label: '3. Rampart guard + rampartGraphql (depth, complexity, budget)' },
  // Nest's guard machinery on every resolver, with a global guard that does nothing.
  { id: 'empty-guard', label: '4. empty global guard, returns true (ref.)' },
];

// ---- one case's server (child process) ----------------------------------------------------------

async function serve(caseId) {
  const { Module } = await import('@nestjs/common');
  const { APP_GUARD, NestFactory } = await import('@nestjs/core');
  const { ApolloDriver } = await import('@nestjs/apollo');
  const { Field, GraphQLModule, Int, ObjectType, Query, Resolver } = await import('@nestjs/graphql');
  const { Rampart, RateLimitModule } = await import('nest-rampart');
  const { rampartGraphql } = await import('nest-rampart/graphql');

  class Post {}
  ObjectType()(Post);
  Field(() => Int)(Post.prototype, 'id');
  Field(() => String)(Post.prototype, 'title');
  const POSTS = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, title: `post ${i + 1}` }));
  class BenchResolver {
    hello() {
      return 'world';
    }
    posts() {
      return POSTS;
    }
  }
  Resolver()(BenchResolver);
  for (const [name, type] of [
    ['hello', () => String],
    ['posts', () => [Post]],
  ]) {
    Query(type)(BenchResolver.prototype, name, Object.getOwnPropertyDescriptor(BenchResolver.prototype, name));
  }

  const limited = caseId === 'rampart' || caseId === 'rampart-limits';
  const graphql = GraphQLModule.forRootAsync({
    driver: ApolloDriver,
    ...(limited ? { inject: [Rampart] } : {}),
    useFactory: (rampart) => {
      const plugins =
        caseId === 'rampart-limits'
          ? [rampartGraphql(rampart, { maxDepth: 8, maxComplexity: 1_000, budget: { limit: 1e9, windowMs: 60_000 } }).apolloPlugin()]
          : [];
      return { autoSchemaFile: true, graphiql: false, plugins };
    },
  });
  const imports = limited
    ? [
        RateLimitModule.forRoot({
          rules: [{ limit: 1e9, windowMs: 60_000 }],
          escalation: false,
          keyResolver: (context) => context.getArgByIndex(2)?.req?.headers?.[CLIENT_HEADER],
          logger: { log() {}, warn() {}, error() {} },
        }),
        graphql,
      ]
    : [graphql];
  class AppModule {}
  const providers = caseId === 'empty-guard' ? [BenchResolver, { provide: APP_GUARD, useValue: { canActivate: () => true } }] : [BenchResolver];
  Module({ imports, providers })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  process.send({ type: 'ready', port: app.getHttpServer().address().port });
  process.on('message', async (message) => {
    if (message?.type === 'in-process') process.send({ type: 'in-process', cpuUsPerOp: await inProcess(app, GraphQLModule) });
    if (message?.type !== 'close') return;
    await app.close();
    process.exit(0);
  });
}

/**
 * CPU time per operation with no socket and no load generator: operations run one after another
 * through Apollo Server's own entry point (`executeHTTPGraphQLRequest`, what its Express
 * integration calls), each with an HTTP request of its own client. Steadier than throughput on a
 * shared machine; it leaves out Express and the network, which every case pays alike.
 */
async function inProcess(app, GraphQLModule) {
  const { HeaderMap } = await import('@apollo/server');
  const server = app.get(GraphQLModule).graphQlAdapter.instance;
  const socket = { remoteAddress: '127.0.0.1' };
  const run = async (count) => {
    for (let i = 0; i < count; i++) {
      const req = { method: 'POST', headers: { [CLIENT_HEADER]: `client-${i % 1_000}` }, socket, res: { setHeader() {} } };
      const response = await server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers: new HeaderMap([['content-type', 'application/json']]), search: '', body: { query: QUERY } },
        context: async () => ({ req }),
      });
      if (response.status !== undefined && response.status !== 200) throw new Error(`in-process operation answered ${response.status}`);
    }
  };
  await run(IN_PROCESS_OPS / 4);
  const before = process.cpuUsage();
  await run(IN_PROCESS_OPS);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / IN_PROCESS_OPS;
}

// ---- the driver (parent process) ----------------------------------------------------------------

async function startServer(caseId) {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, BENCH_GRAPHQL_CASE: caseId },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const ready = await Promise.race([
    once(child, 'message').then(([message]) => message),
    exited.then(([code]) => {
      throw new Error(`case server ${caseId} exited with code ${code} before it was ready`);
    }),
  ]);
  return {
    port: ready.port,
    pid: child.pid,
    async inProcess() {
      const reply = new Promise((resolve) => child.on('message', (message) => message?.type === 'in-process' && resolve(message.cpuUsPerOp)));
      child.send({ type: 'in-process' });
      return reply;
    },
    async close() {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.send({ type: 'close' });
      await exited;
      clearTimeout(timer);
    },
  };
}

function load(port, durationS) {
  let connection = 0;
  const body = JSON.stringify({ query: QUERY });
  return autocannon({
    url: `http://127.0.0.1:${port}/graphql`,
    connections: CONNECTIONS,
    duration: durationS,
    setupClient(client) {
      const own = connection++ % CONNECTIONS;
      client.setRequests(
        Array.from({ length: KEYS_PER_CONNECTION }, (_, slot) => ({
          method: 'POST',
          path: '/graphql',
          headers: { 'content-type': 'application/json', [CLIENT_HEADER]: `client-${own * KEYS_PER_CONNECTION + slot}` },
          body,
        })),
      );
    },
  });
}

async function runCase(spec) {
  const server = await startServer(spec.id);
  try {
    // One operation checked by hand: every case must answer it in full, with no error.
    const check = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CLIENT_HEADER]: 'check' },
      body: JSON.stringify({ query: QUERY }),
    });
    const answer = await check.json();
    if (answer.errors || answer.data?.posts?.length !== 5) throw new Error(`${spec.id} answered ${JSON.stringify(answer)}`);
    const limited = check.headers.get('ratelimit') !== null;
    if (limited !== spec.id.startsWith('rampart')) throw new Error(`${spec.id}: RateLimit header ${limited ? 'present' : 'missing'}`);
    if (WARMUP_S > 0) await load(server.port, WARMUP_S);
    const cpuBefore = processCpuMs(server.pid);
    const result = await load(server.port, DURATION_S);
    const cpuMs = processCpuMs(server.pid) - cpuBefore;
    const inProcessUsPerOp = await server.inProcess();
    return {
      inProcessUsPerOp,
      opsPerSec: result.requests.average,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      // The app's CPU time per operation: steadier than throughput on a machine that other work shares.
      cpuUsPerOp: (cpuMs * 1000) / Math.max(1, result.requests.total),
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
    };
  } finally {
    await server.close();
  }
}

/** CPU time (ms) a local process has used so far (Linux /proc); NaN elsewhere. */
function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ
  } catch {
    return Number.NaN;
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main() {
  const load1 = loadavg()[0];
  const runs = Object.fromEntries(CASES.map((spec) => [spec.id, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const spec of round % 2 === 0 ? CASES : [...CASES].reverse()) {
      process.stderr.write(`bench: round ${round + 1}/${ROUNDS}: ${spec.label} ...\n`);
      runs[spec.id].push(await runCase(spec));
    }
  }
  const results = Object.fromEntries(
    CASES.map((spec) => {
      const rows = runs[spec.id];
      return [
        spec.id,
        {
          label: spec.label,
          opsPerSec: Math.round(median(rows.map((r) => r.opsPerSec))),
          p50Ms: median(rows.map((r) => r.p50Ms)),
          p99Ms: median(rows.map((r) => r.p99Ms)),
          cpuUsPerOp: Math.round(median(rows.map((r) => r.cpuUsPerOp))),
          inProcessUsPerOp: Math.round(median(rows.map((r) => r.inProcessUsPerOp))),
          opsPerSecByRound: rows.map((r) => Math.round(r.opsPerSec)),
          non2xx: rows.reduce((sum, r) => sum + r.non2xx, 0),
          errors: rows.reduce((sum, r) => sum + r.errors, 0),
        },
      ];
    }),
  );
  const none = results.none;
  console.log(
    `\nGraphQL benchmark: POST /graphql ${QUERY} on Nest (Apollo on Express), ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s measured per case, each case in a fresh process; ${ROUNDS} round(s), medians.`,
  );
  if (ROUNDS < 5) console.log(`!! Only ${ROUNDS} round(s): a smoke run, not a measurement.`);
  console.log(
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${load1.toFixed(2)} at start; Node ${process.version}. Load generator and app share the machine.\n`,
  );
  console.log(
    `${'case'.padEnd(64)} ${'ops/s'.padStart(7)} ${'vs none'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'CPU µs/op'.padStart(10)} ${'vs none'.padStart(8)} ${'in-process µs/op'.padStart(17)} ${'vs none'.padStart(8)}  ops/s by round`,
  );
  for (const r of Object.values(results)) {
    console.log(
      `${r.label.padEnd(64)} ${String(r.opsPerSec).padStart(7)} ${(r.opsPerSec / none.opsPerSec).toFixed(2).padStart(8)} ${String(r.p50Ms).padStart(7)} ${String(r.p99Ms).padStart(7)} ${String(r.cpuUsPerOp).padStart(10)} ${(none.cpuUsPerOp / r.cpuUsPerOp).toFixed(2).padStart(8)} ${String(r.inProcessUsPerOp).padStart(17)} ${(none.inProcessUsPerOp / r.inProcessUsPerOp).toFixed(2).padStart(8)}  ${r.opsPerSecByRound.join(' ')}`,
    );
    if (r.non2xx || r.errors) console.log(`   !! ${r.non2xx} non-2xx responses, ${r.errors} errors`);
  }
  console.log(
    `\nTarget: Rampart ≥ 0.90 × no limiter. The other "vs none" are CPU per operation as capacity ratios (none's ÷ the case's): the app's under load, and in process (no socket, one operation at a time, ${IN_PROCESS_OPS} operations). JSON: ${JSON.stringify(results)}`,
  );
}

if (process.env.BENCH_GRAPHQL_CASE) await serve(process.env.BENCH_GRAPHQL_CASE);
else await main();
