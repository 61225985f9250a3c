// HTTP throughput and latency of the same Nest app (Express, `GET /` returning a small JSON) with no
// limiter, @nestjs/throttler, Rampart's memory store (without and with its Prometheus metrics), a rate-limiter-flexible Mongo guard and
// Rampart's Mongo store, plus clients already blocked and clients over their limit (no block, no
// escalation); then the same guard on rate-limiter-flexible's Redis limiter and Rampart's Redis
// store, with clients within their limit and clients already blocked. Each case runs in a fresh child process
// (bench/http-server.mjs); autocannon drives it over loopback from this process.
//
// Run: npm run build && node bench/http.mjs        (npm run bench does both, then bench/memory.mjs)
//
// MongoDB: MONGO_URL when set; otherwise the mongo-java-server stand-in of the test harness is started
// (memory backend) and always stopped at the end. Without either, the Mongo cases are skipped.
// Redis: REDIS_URL when set (keys of a case start with bench:<run>:<case>: and are deleted after it;
// the commands counted are the whole server's, so it should be a Redis nothing else uses meanwhile);
// otherwise one redis-server (from PATH) is started through the test harness and always stopped at
// the end. Without either, the Redis cases are skipped. Redis commands per request come from the
// server's INFO commandstats, read before and after the measured window.
// Every case runs BENCH_ROUNDS times (default 5; every other round in reverse order, so that no case
// always runs first or last) and reports, column by column, the median over its rounds; the ratios
// are computed from those medians. A single round swings by about ±8 % on a small shared machine.
// Five rounds take this script about 11 minutes on a 2-core machine (the Redis cases about 3 of
// them); BENCH_ROUNDS=1 BENCH_DURATION_S=1 BENCH_WARMUP_S=0 is a smoke run of about a minute (its
// figures mean nothing).
// Environment: BENCH_DURATION_S (default 5), BENCH_WARMUP_S (1), BENCH_CONNECTIONS (50), BENCH_ROUNDS (5),
// BENCH_CASES (comma-separated case ids; default all but the opt-in references empty-guard,
// empty-guard-async, headers-guard and rlf-redis-blocked-in-memory), BENCH_CPU_PROF (a folder: each case server
// writes a V8 CPU profile there), BENCH_PERF=1 (instructions per request of the app and the database,
// counted by Linux `perf stat`, which hardly depend on other load on the machine).
import autocannon from 'autocannon';
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = join(ROOT, 'bench', 'http-server.mjs');
const CLIENT_HEADER = 'x-client-id';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be an integer >= 1, got ${process.env.BENCH_ROUNDS}`);
/** Fewer rounds than this make a smoke run, whose figures are not to be compared. */
const MIN_ROUNDS = 5;
const CPU_PROF = process.env.BENCH_CPU_PROF;
/** With BENCH_PERF=1, `perf stat` counts the instructions the app (and the database) execute in the window. */
const PERF = process.env.BENCH_PERF === '1';
/** Each connection cycles through keys of its own, so no key is ever in flight twice at once. */
const KEYS_PER_CONNECTION = 20;
const KEYS = CONNECTIONS * KEYS_PER_CONNECTION;
const KEYING = `${CLIENT_HEADER} header: ${KEYS} client keys, ${KEYS_PER_CONNECTION} per connection, round-robin`;

const CASES = [
  { id: 'none', label: '1. no limiter' },
  { id: 'throttler', label: '2. @nestjs/throttler (memory)' },
  { id: 'rampart-memory', label: '3. Rampart memory store' },
  { id: 'rampart-memory-metrics', label: '3m. Rampart memory store, Prometheus metrics registered' },
  { id: 'rlf-mongo', label: '4. rate-limiter-flexible Mongo', db: 'mongo' },
  { id: 'rampart-mongo', label: '5. Rampart Mongo store', db: 'mongo' },
  { id: 'rampart-mongo-blocked', label: '6. Rampart Mongo, blocked client', db: 'mongo', blocked: true },
  { id: 'rlf-mongo-blocked', label: '7. rate-limiter-flexible Mongo, blocked (ref.)', db: 'mongo', blocked: true },
  // Clients over their limit with no rule block and escalation off: denied by the algorithm each time.
  { id: 'rampart-mongo-over-limit', label: '8. Rampart Mongo, over-limit client (sliding window, no escalation)', db: 'mongo', blocked: true },
  { id: 'rampart-mongo-over-limit-tb', label: '9. Rampart Mongo, over-limit client (token bucket, no escalation)', db: 'mongo', blocked: true },
  { id: 'rlf-redis', label: '10. rate-limiter-flexible Redis', db: 'redis' },
  { id: 'rampart-redis', label: '11. Rampart Redis store', db: 'redis' },
  { id: 'rampart-redis-blocked', label: '12. Rampart Redis, blocked client', db: 'redis', blocked: true },
  { id: 'rlf-redis-blocked', label: '13. rate-limiter-flexible Redis, blocked', db: 'redis', blocked: true },
  // References, run only when BENCH_CASES names them: rate-limiter-flexible answering a blocked key
  // from memory (its inMemoryBlockOnConsumed option), and Nest's guard machinery with a guard that does nothing.
  {
    id: 'rlf-redis-blocked-in-memory',
    label: '14. rate-limiter-flexible Redis, blocked, inMemoryBlockOnConsumed (ref.)',
    db: 'redis',
    blocked: true,
    optIn: true,
  },
  { id: 'empty-guard', label: '15. empty guard, returns true (ref.)', optIn: true },
  { id: 'empty-guard-async', label: '16. empty async guard (ref.)', optIn: true },
  { id: 'headers-guard', label: '17. guard writing two fixed headers (ref.)', optIn: true },
].filter((spec) => (process.env.BENCH_CASES ? process.env.BENCH_CASES.split(',').includes(spec.id) : !spec.optIn));

/** The test harness's stand-in launcher (TypeScript), loaded through tsx only when needed. */
async function startStandIn() {
  const { tsImport } = await import('tsx/esm/api');
  const { startMongoStandIn } = await tsImport(pathToFileURL(join(ROOT, 'test', 'harness', 'mongo-server.ts')).href, import.meta.url);
  const logPath = join(ROOT, '.cache', 'mongo-stand-in-bench.log');
  mkdirSync(dirname(logPath), { recursive: true });
  const log = createWriteStream(logPath, { flags: 'w' });
  const server = await startMongoStandIn({
    root: ROOT,
    // Full tiered compilation (the harness default stops at C1 for a fast start), a fixed heap.
    jvmArgs: ['-Xms1g', '-Xmx1g', '-XX:+UseParallelGC'],
    log: (message) => process.stderr.write(`MongoDB stand-in: ${message}\n`),
    onStderr: (line) => log.write(`${line}\n`),
  });
  return {
    url: server.url,
    pid: server.pid,
    stop: async () => {
      await server.stop();
      log.end();
    },
    description: `mongo-java-server stand-in (memory backend); log ${logPath}`,
  };
}

/** One redis-server of the test harness's launcher (TypeScript, loaded through tsx like the stand-in's). */
async function startRedis() {
  const { tsImport } = await import('tsx/esm/api');
  const { startRedisServer } = await tsImport(pathToFileURL(join(ROOT, 'test', 'harness', 'redis-server.ts')).href, import.meta.url);
  const server = await startRedisServer();
  return { url: server.url, pid: server.pid, stop: () => server.dispose(), description: `redis-server started for the run (${server.url})` };
}

/**
 * Gives the database a few seconds of both limiters' kinds of operation before the first Mongo case,
 * so that neither case pays for the JVM's just-in-time compilation (or a cold cache) more than the other.
 */
async function warmDatabase(url, dbName, seconds = 3) {
  const { default: mongoose } = await import('mongoose');
  const connection = mongoose.createConnection(url, { dbName });
  try {
    await connection.asPromise();
    const byKey = connection.db.collection('warm_by_key');
    const byId = connection.db.collection('warm_by_id');
    await byKey.createIndex({ key: 1 }, { unique: true });
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, worker) => {
        for (let i = 0; Date.now() < until; i++) {
          const key = keyOf(worker, i % KEYS_PER_CONNECTION);
          const expire = new Date(Date.now() + 60_000);
          await byKey.findOneAndUpdate(
            { $or: [{ expire: { $gt: new Date() } }, { expire: { $eq: null } }], key },
            { $setOnInsert: { key, expire }, $inc: { points: 1 } },
            { upsert: true, returnDocument: 'after' },
          );
          await byId.findOneAndUpdate(
            { _id: key },
            { $inc: { c1: 1 }, $max: { e: expire }, $setOnInsert: { b: 0 }, $unset: { c0: '' } },
            { upsert: true, returnDocument: 'before' },
          );
        }
      }),
    );
    await connection.db.dropDatabase();
  } finally {
    await connection.close();
  }
}

// ---- one case -----------------------------------------------------------------------------------

/** A running case server; `ask` sends one IPC message and waits for the reply of type `answer`. */
async function startServer(caseId, db, runId) {
  const child = fork(SERVER, [], {
    cwd: ROOT,
    execArgv: CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF, '--cpu-prof-name', `${caseId}-${runId}.cpuprofile`] : [],
    env: {
      ...process.env,
      BENCH_CASE: caseId,
      ...(db?.kind === 'mongo' ? { MONGO_URL: db.url, BENCH_DB: `bench_${runId}_${caseId.replace(/-/g, '_')}` } : {}),
      ...(db?.kind === 'redis' ? { REDIS_URL: db.url, BENCH_REDIS_PREFIX: `bench:${runId}:${caseId}:` } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const ready = await Promise.race([
    nextMessage(child, 'ready'),
    exited.then(([code]) => {
      throw new Error(`case server ${caseId} exited with code ${code} before it was ready`);
    }),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`case server ${caseId} not ready within 30 s`)), 30_000).unref()),
  ]);
  return {
    port: ready.port,
    pid: child.pid,
    async ask(type, answer) {
      const reply = nextMessage(child, answer);
      child.send({ type });
      return reply;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      if (child.connected) child.send({ type: 'close' });
      else child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function nextMessage(child, type) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.type !== type) return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
  });
}

const keyOf = (connection, slot) => `client-${String(connection * KEYS_PER_CONNECTION + slot).padStart(4, '0')}`;

function load(port, durationS) {
  let connection = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections: CONNECTIONS,
    duration: durationS,
    // Prebuilt requests, one per key of this connection: no per-request work in the load generator.
    setupClient(client) {
      const own = connection++ % CONNECTIONS;
      client.setRequests(
        Array.from({ length: KEYS_PER_CONNECTION }, (_, slot) => ({ method: 'GET', path: '/', headers: { [CLIENT_HEADER]: keyOf(own, slot) } })),
      );
    },
  });
}

/**
 * Takes every key over its limit: per key, one request admitted, one denied (starting the block, in
 * the blocked cases), one refused.
 */
async function primeBlocked(port) {
  const statuses = {};
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, connection) => {
      for (let slot = 0; slot < KEYS_PER_CONNECTION; slot++) {
        for (let i = 0; i < 3; i++) {
          const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { [CLIENT_HEADER]: keyOf(connection, slot) } });
          await response.arrayBuffer();
          if (i === 2) statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        }
      }
    }),
  );
  return statuses;
}

/**
 * Counts the instructions (user and kernel) a process executes until `stop()` resolves with them,
 * with Linux `perf stat`: unlike CPU time, the count hardly depends on other load on the machine.
 */
function countInstructions(pid) {
  const perf = spawn('perf', ['stat', '-x', ',', '-e', 'instructions:u,instructions:k,cycles', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  perf.stderr.on('data', (chunk) => (text += chunk));
  const exited = once(perf, 'exit');
  return {
    async stop() {
      perf.kill('SIGINT');
      await exited;
      const count = (event) =>
        Number(
          text
            .split('\n')
            .find((line) => line.includes(event))
            ?.split(',')[0],
        );
      const user = count('instructions:u');
      const kernel = count('instructions:k');
      const cycles = count('cycles');
      return Number.isFinite(user) && Number.isFinite(kernel) ? { user, kernel, cycles } : undefined;
    },
  };
}

/** CPU time (ms) used so far by a local process (Linux /proc); undefined elsewhere. */
function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

async function runCase(spec, db, runId, track) {
  const loadAverageAtStart = loadavg()[0];
  const server = await startServer(spec.id, db, runId);
  track(server);
  try {
    const primed = spec.blocked ? await primeBlocked(server.port) : undefined;
    if (WARMUP_S > 0) await load(server.port, WARMUP_S);
    await server.ask('start', 'started');
    const dbCpuBefore = db?.pid ? processCpuMs(db.pid) : undefined;
    const perfApp = PERF ? countInstructions(server.pid) : undefined;
    const perfDb = PERF && db?.pid ? countInstructions(db.pid) : undefined;
    const loadCpuBefore = process.cpuUsage();
    const result = await load(server.port, DURATION_S);
    const loadCpu = process.cpuUsage(loadCpuBefore);
    const dbCpuAfter = dbCpuBefore !== undefined ? processCpuMs(db.pid) : undefined;
    const appInstructions = await perfApp?.stop();
    const dbInstructions = await perfDb?.stop();
    const { counts } = await server.ask('stop', 'counts');
    const requests = Math.max(1, counts.requests);
    const row = {
      label: spec.label,
      loadAverage: round(loadAverageAtStart, 2),
      reqPerSec: Math.round(result.requests.average),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      requests: result.requests.total,
      '2xx': result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      serverCpuPercent: Math.round((counts.cpuUs / counts.elapsedUs) * 100),
      serverCpuMsPerRequest: round(counts.cpuUs / 1000 / requests, 3),
      serverStatuses: counts.byStatus,
      // The load generator (this process) shares the machine: its CPU per request, for the CPU split.
      loadGeneratorCpuMsPerRequest: round((loadCpu.user + loadCpu.system) / 1000 / Math.max(1, result.requests.total), 3),
    };
    // Thousands of instructions per request (user + kernel); the window is the load generator's run.
    const perRequest = (n) => (n ? round((n.user + n.kernel) / 1000 / Math.max(1, result.requests.total), 1) : undefined);
    if (appInstructions) row.appKiloInstructionsPerRequest = perRequest(appInstructions);
    if (appInstructions?.cycles) row.appKiloCyclesPerRequest = round(appInstructions.cycles / 1000 / Math.max(1, result.requests.total), 1);
    if (dbInstructions) row.dbKiloInstructionsPerRequest = perRequest(dbInstructions);
    if (appInstructions)
      process.stderr.write(
        `bench:   ${row.reqPerSec} req/s; app ${row.appKiloInstructionsPerRequest} k instructions/request, ${row.appKiloCyclesPerRequest} k cycles/request${dbInstructions ? `, database ${row.dbKiloInstructionsPerRequest}` : ''}\n`,
      );
    if (spec.db) {
      row.serverRequests = counts.requests;
      if (spec.db === 'mongo') {
        row.dbCommands = counts.commands;
        row.decisionDbCommands = mongoDecisionCommands(counts.commandsBy);
        row.commandsBy = counts.commandsBy;
      } else {
        // Counted by the server (INFO commandstats, see bench/http-server.mjs); the app's tally only
        // tells the ban and list polls apart.
        const { redis } = counts;
        row.dbCommands = redis.received;
        row.decisionDbCommands = redis.received - redis.background;
        row.dbCommandsRun = redis.run;
        row.commandsBy = redis.commandsBy;
        row.sentBy = redis.sentBy;
        row.otherClientsCommands = redis.otherClients;
      }
      row.commandsPerRequest = round(row.dbCommands / requests, 4);
      row.decisionCommandsPerRequest = round(row.decisionDbCommands / requests, 4);
      if (row.dbCommandsRun !== undefined) row.commandsRunPerRequest = round(row.dbCommandsRun / requests, 4);
      if (dbCpuAfter !== undefined) row.dbCpuMsPerRequest = round((dbCpuAfter - dbCpuBefore) / requests, 3);
      if (primed) row.primedStatuses = primed;
    }
    return row;
  } finally {
    await server.close();
  }
}

/** Mongo: commands on the rate-limit collection only (the rest are Rampart's 1 s ban and list polls). */
function mongoDecisionCommands(commandsBy) {
  return Object.entries(commandsBy)
    .filter(([name]) => /rate_limits$/.test(name))
    .reduce((sum, [, n]) => sum + n, 0);
}

const round = (n, digits = 2) => Number(n.toFixed(digits));
const ratio = (a, b) => (a && b ? round(a.reqPerSec / b.reqPerSec) : null);
/** The median over the rounds of a's req/s over b's in the same round. */
const roundRatio = (a, b) => (a && b ? round(median(a.reqPerSecByRound.map((value, i) => value / b.reqPerSecByRound[i]))) : null);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Counts that are added up over the rounds rather than reduced to their median. */
const TOTALS = new Set(['requests', '2xx', 'non2xx', 'errors', 'serverRequests', 'dbCommands', 'decisionDbCommands', 'dbCommandsRun', 'otherClientsCommands']);

/**
 * One case's rounds as one row: the median of each figure; totals over every round for the counts
 * of requests, failures, statuses and database commands (so that one bad round shows), and the
 * commands per request recomputed from those totals.
 */
function aggregate(rows) {
  const result = {};
  for (const key of new Set(rows.flatMap(Object.keys))) {
    const values = rows.map((row) => row[key]).filter((value) => value !== undefined);
    if (typeof values[0] === 'number') result[key] = TOTALS.has(key) ? values.reduce((a, b) => a + b, 0) : round(median(values), 4);
    else if (typeof values[0] === 'object' && values[0] !== null) {
      result[key] = {};
      for (const counts of values) for (const [name, n] of Object.entries(counts)) result[key][name] = (result[key][name] ?? 0) + n;
    } else result[key] = values[0];
  }
  if (result.commandsBy) {
    const requests = Math.max(1, result.serverRequests);
    result.commandsPerRequest = round(result.dbCommands / requests, 4);
    result.decisionCommandsPerRequest = round(result.decisionDbCommands / requests, 4);
    if (result.dbCommandsRun !== undefined) result.commandsRunPerRequest = round(result.dbCommandsRun / requests, 4);
  }
  const reqPerSec = rows.map((row) => row.reqPerSec);
  result.reqPerSec = Math.round(result.reqPerSec);
  result.reqPerSecByRound = reqPerSec;
  result.serverCpuMsPerRequestByRound = rows.map((row) => row.serverCpuMsPerRequest);
  result.reqPerSecSpreadPercent = round(((Math.max(...reqPerSec) - Math.min(...reqPerSec)) / result.reqPerSec) * 100, 1);
  return result;
}

// ---- main ---------------------------------------------------------------------------------------

/** The databases of the cases: each taken from its URL or started once for the run, and stopped at the end. */
const DATABASES = {
  mongo: { name: 'MongoDB', urlVariable: 'MONGO_URL', launcher: 'the stand-in', start: startStandIn, warm: warmDatabase },
  redis: { name: 'Redis', urlVariable: 'REDIS_URL', launcher: 'redis-server', start: startRedis },
};

const redactUrl = (url) => url.replace(/\/\/[^@/]*@/, '//***@');

async function main() {
  const runId = Date.now().toString(36);
  /** kind → { kind, url, pid?, stop?, description }. */
  const dbs = {};
  /** kind → why its cases were skipped. */
  const skipped = {};
  let current;
  const stopAll = async () => {
    current?.kill();
    for (const db of Object.values(dbs)) await db.stop?.();
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      stopAll().finally(() => process.exit(130));
    });
  }

  try {
    for (const kind of new Set(CASES.map((spec) => spec.db).filter(Boolean))) {
      const { name, urlVariable, launcher, start } = DATABASES[kind];
      const url = process.env[urlVariable];
      if (url) {
        dbs[kind] = { kind, url, description: `${urlVariable} (${redactUrl(url)})` };
        continue;
      }
      try {
        dbs[kind] = { kind, ...(await start()) };
      } catch (error) {
        const ids = CASES.filter((spec) => spec.db === kind).map((spec) => spec.id);
        skipped[kind] =
          `${name} cases (${ids.join(', ')}) SKIPPED: no ${urlVariable} and ${launcher} could not start: ${error instanceof Error ? error.message.split('\n')[0] : error}`;
        process.stderr.write(`bench: ${skipped[kind]}\n`);
      }
    }
    const started = Date.now();
    const load1 = loadavg()[0];
    const runs = {};
    const cases = CASES.filter((spec) => !spec.db || dbs[spec.db]);
    for (let pass = 0; pass < ROUNDS; pass++) {
      for (const spec of pass % 2 === 0 ? cases : [...cases].reverse()) {
        const db = spec.db ? dbs[spec.db] : undefined;
        const { warm } = spec.db ? DATABASES[spec.db] : {};
        if (warm && !db.warm) {
          process.stderr.write('bench: warming the database up (3 s) ...\n');
          await warm(db.url, `bench_${runId}_warmup`);
          db.warm = true;
        }
        process.stderr.write(`bench: round ${pass + 1}/${ROUNDS}: ${spec.label} ...\n`);
        const row = await runCase(spec, db, `${runId}${pass}`, (server) => (current = server));
        current = undefined;
        (runs[spec.id] ??= []).push(row);
      }
    }
    const results = Object.fromEntries(cases.map((spec) => [spec.id, aggregate(runs[spec.id])]));
    report(results, dbs, skipped, Date.now() - started, load1, loadavg()[0]);
  } finally {
    await stopAll();
  }
}

/** Per request, a count of the windows of every round (e.g. 1.0003). */
const perRequestOf = (counts, requests) => Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, round(n / Math.max(1, requests), 4)]));

function report(results, dbs, skipped, elapsedMs, load1, load1AtEnd) {
  console.log(
    `\nHTTP benchmark: GET / on Nest (Express), ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s measured per case, each case in a fresh process; ${ROUNDS} round(s).`,
  );
  console.log(`Each figure is the median over the rounds, except 2xx, non-2xx, errors and database commands per request: totals over every round.`);
  if (ROUNDS < MIN_ROUNDS) console.log(`!! Only ${ROUNDS} round(s), fewer than ${MIN_ROUNDS}: a smoke run, not a measurement.`);
  console.log(
    `Clients: ${KEYING}. Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${load1.toFixed(2)} at start, ${load1AtEnd.toFixed(2)} at the end (1 min); Node ${process.version}. Load generator, app and database share the machine.`,
  );
  for (const [kind, { name }] of Object.entries(DATABASES)) {
    if (dbs[kind]) console.log(`${name}: ${dbs[kind].description}`);
    else if (skipped[kind]) console.log(`!! ${skipped[kind]}`);
  }

  const table = {};
  for (const row of Object.values(results)) {
    table[row.label] = {
      'req/s': row.reqPerSec,
      'req/s spread %': row.reqPerSecSpreadPercent,
      'p50 ms': row.p50Ms,
      'p99 ms': row.p99Ms,
      '2xx': row['2xx'],
      'non-2xx': row.non2xx,
      errors: row.errors,
      'app CPU %': row.serverCpuPercent,
      'app CPU ms/req': row.serverCpuMsPerRequest,
      'db CPU ms/req': row.dbCpuMsPerRequest ?? '',
      'loadgen CPU ms/req': row.loadGeneratorCpuMsPerRequest,
      'db cmds/req': row.commandsPerRequest ?? '',
      'rate-limit cmds/req': row.decisionCommandsPerRequest ?? '',
      'Redis cmds run/req': row.commandsRunPerRequest ?? '',
      'load avg': row.loadAverage,
      ...(PERF ? { 'app kinstr/req': row.appKiloInstructionsPerRequest ?? '', 'db kinstr/req': row.dbKiloInstructionsPerRequest ?? '' } : {}),
    };
  }
  console.table(table);

  const r = results;
  // Each ratio of median req/s, and beside it the median of the ratios round by round (the two cases
  // of a round run one after the other, so that slow drifts of the machine's load cancel out).
  const pairs = {
    rampartMemoryVsNoLimiter: ['rampart-memory', 'none'],
    rampartMemoryVsThrottler: ['rampart-memory', 'throttler'],
    rampartMetricsVsNoMetrics: ['rampart-memory-metrics', 'rampart-memory'],
    rampartMongoVsRateLimiterFlexibleMongo: ['rampart-mongo', 'rlf-mongo'],
    rampartRedisVsRateLimiterFlexibleRedis: ['rampart-redis', 'rlf-redis'],
    rampartRedisBlockedVsRateLimiterFlexibleRedisBlocked: ['rampart-redis-blocked', 'rlf-redis-blocked'],
    ...(r['rlf-redis-blocked-in-memory']
      ? { rampartRedisBlockedVsRateLimiterFlexibleRedisBlockedInMemory: ['rampart-redis-blocked', 'rlf-redis-blocked-in-memory'] }
      : {}),
  };
  const ratios = Object.fromEntries(Object.entries(pairs).map(([name, [a, b]]) => [name, ratio(r[a], r[b])]));
  const roundRatios = Object.fromEntries(Object.entries(pairs).map(([name, [a, b]]) => [name, roundRatio(r[a], r[b])]));
  // Per request, the commands of the decision (Mongo: on the rate-limit collection; Redis: all but
  // the ban and list polls' scripts); the totals, which add Rampart's ban and list polls (a few
  // commands a second, whatever the traffic), are in the table.
  const overLimit = [r['rampart-mongo-over-limit'], r['rampart-mongo-over-limit-tb']].filter(Boolean);
  const atLeast = (value, min) => (value === null ? null : value >= min);
  const oneCommandPerDecision = (row) => (row ? Math.abs(row.decisionCommandsPerRequest - 1) < 0.005 && (row.serverStatuses[200] ?? 0) > 0 : null);
  const noCommand = (rows) => (rows.length > 0 ? rows.every((row) => row.decisionCommandsPerRequest === 0 && (row.serverStatuses[200] ?? 0) === 0) : null);
  const commandsTarget = (target, rows, met) => ({
    target,
    value: rows.length > 0 ? Math.max(...rows.map((row) => row.decisionCommandsPerRequest)) : null,
    totalPerRequest: rows.length > 0 ? Math.max(...rows.map((row) => row.commandsPerRequest)) : null,
    met,
  });
  const present = (...rows) => rows.filter(Boolean);
  const targets = [
    { target: 'Rampart memory >= 0.95x no limiter (req/s)', value: ratios.rampartMemoryVsNoLimiter, met: atLeast(ratios.rampartMemoryVsNoLimiter, 0.95) },
    {
      target: 'Rampart memory with Prometheus metrics >= 0.95x without (req/s)',
      value: ratios.rampartMetricsVsNoMetrics,
      met: atLeast(ratios.rampartMetricsVsNoMetrics, 0.95),
    },
    { target: 'Rampart memory >= 1.1x @nestjs/throttler (req/s)', value: ratios.rampartMemoryVsThrottler, met: atLeast(ratios.rampartMemoryVsThrottler, 1.1) },
    {
      target: 'Rampart Mongo >= 1.5x rate-limiter-flexible Mongo (req/s)',
      value: ratios.rampartMongoVsRateLimiterFlexibleMongo,
      met: atLeast(ratios.rampartMongoVsRateLimiterFlexibleMongo, 1.5),
    },
    commandsTarget('Rampart Mongo: 1 database command per allowed decision', present(r['rampart-mongo']), oneCommandPerDecision(r['rampart-mongo'])),
    commandsTarget(
      'Rampart Mongo: 0 database commands per request of a blocked client',
      present(r['rampart-mongo-blocked']),
      noCommand(present(r['rampart-mongo-blocked'])),
    ),
    commandsTarget('Rampart Mongo: 0 database commands per request of an over-limit client (no block, no escalation)', overLimit, noCommand(overLimit)),
    {
      target: 'Rampart Redis >= 1.2x rate-limiter-flexible Redis (req/s), clients within their limit',
      value: ratios.rampartRedisVsRateLimiterFlexibleRedis,
      met: atLeast(ratios.rampartRedisVsRateLimiterFlexibleRedis, 1.2),
    },
    {
      target: 'Rampart Redis >= 1.2x rate-limiter-flexible Redis (req/s), clients already blocked',
      value: ratios.rampartRedisBlockedVsRateLimiterFlexibleRedisBlocked,
      met: atLeast(ratios.rampartRedisBlockedVsRateLimiterFlexibleRedisBlocked, 1.2),
    },
    commandsTarget(
      'Rampart Redis: 1 Redis command (one round trip) per allowed decision',
      present(r['rampart-redis']),
      oneCommandPerDecision(r['rampart-redis']),
    ),
    commandsTarget(
      'Rampart Redis: 0 Redis commands per request of a blocked client',
      present(r['rampart-redis-blocked']),
      noCommand(present(r['rampart-redis-blocked'])),
    ),
  ];
  console.log('\nRatios (of the median req/s; in brackets, the median of the ratios round by round):');
  for (const [name, value] of Object.entries(ratios)) console.log(`  ${name}: ${value ?? 'n/a'}${roundRatios[name] === null ? '' : ` (${roundRatios[name]})`}`);
  console.log('Targets:');
  for (const t of targets) {
    const total = t.totalPerRequest !== undefined && t.totalPerRequest !== null ? `; all commands, ban/list polls included: ${t.totalPerRequest}/request` : '';
    console.log(`  [${t.met === null ? 'n/a' : t.met ? 'MET' : 'NOT MET'}] ${t.target} (measured ${t.value ?? 'n/a'}${total})`);
  }
  for (const row of Object.values(results)) {
    if (!row.commandsBy) continue;
    const requests = `${row.serverRequests} requests in the windows of ${ROUNDS} round(s) (statuses ${JSON.stringify(row.serverStatuses)})`;
    if (!row.sentBy) console.log(`  ${row.label}: ${requests}, commands ${JSON.stringify(row.commandsBy)}`);
    else
      console.log(
        `  ${row.label}: ${requests}; Redis commands run (INFO commandstats, those scripts call included) ${JSON.stringify(row.commandsBy)}, per request ${JSON.stringify(perRequestOf(row.commandsBy, row.serverRequests))}; sent by the app, by script ${JSON.stringify(row.sentBy)}${row.otherClientsCommands ? `; !! ${row.otherClientsCommands} scripts run for other clients` : ''}`,
      );
  }

  console.log(
    JSON.stringify({
      bench: 'http',
      endpoint: 'GET / (Nest, Express)',
      connections: CONNECTIONS,
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      clients: KEYING,
      rounds: ROUNDS,
      aggregate: 'median per figure over the rounds; requests, statuses, failures and database commands summed',
      machine: {
        cpus: availableParallelism(),
        cpu: cpus()[0]?.model ?? null,
        node: process.version,
        loadAverageAtStart: round(load1),
        loadAverageAtEnd: round(load1AtEnd),
      },
      mongo: dbs.mongo?.description ?? null,
      redis: dbs.redis?.description ?? null,
      ...(Object.keys(skipped).length > 0 ? { skipped } : {}),
      cases: results,
      ratios,
      roundRatios,
      targets,
      elapsedS: round(elapsedMs / 1000, 1),
    }),
  );
}

main().catch((error) => {
  console.error('bench/http.mjs failed:', error);
  process.exitCode = 1;
});
