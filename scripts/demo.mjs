#!/usr/bin/env node
/**
 * Walks through the sample app's rate limits against a real server:
 *
 *   1. GET /            the module's default rule counting down
 *   2. GET /health      @SkipThrottle(): never limited, no rate-limit headers; its terminus check
 *                       of the rate-limit storage printed (up, the probe's latency, storage ready)
 *   3. POST /auth/login 5 attempts per window, then 429 with Retry-After
 *   4. recovery         wait as long as Retry-After says, then the attempt is admitted again
 *
 * then the escalation of a repeat offender, played by another client (the app trusts
 * X-Forwarded-For from loopback, so the demo can speak for several clients):
 *
 *   5. block            over the login limit again and again: 429s, then a temporary block
 *   6. ban              the block ends, more violations: a permanent ban (403); other clients unaffected
 *   7. restart          the app is stopped and started again on the same storage: still 403
 *   8. operator         the admin API: 401 without the key; with it, the bans listed and the ban lifted; the dashboard's URL
 *   9. admitted again   the client's requests are answered by the rules again
 *  10. websocket        a chat client over its gateway's limit (RATE_LIMITED), then banned: its
 *                       socket is closed with 1008 and a new connection is refused
 *  11. GraphQL          POST /graphql { quote }: 3 per minute, the fourth answered RATE_LIMITED
 *  12. observability    GET /metrics (Prometheus: decisions and seed 002's rate_limit_hits_total
 *                       by limit type) and GET /rate-limit/stats (the fleet's figures: every
 *                       instance's summary in the storage, the stopped one's included)
 *
 * Storage: REDIS_URL when set (keys under a prefix of their own, deleted at the end; with MONGO_URL
 * set too, counters in Redis and bans, violations and lists in MongoDB); otherwise MONGO_URL when set
 * (in a database of its own, dropped at the end); otherwise the mongo-java-server stand-in with its
 * H2 file backend when Java (and, the first time, Maven) are available; otherwise memory, where step
 * 7 is skipped (a restart forgets everything).
 *
 * Windows, the block and the ban threshold are shortened (RATE_LIMIT_LOGIN_WINDOW_MS,
 * ESCALATION_BLOCK_MS, ESCALATION_BAN_AFTER) so the whole walk takes seconds. Exits 0 when every
 * step behaves as expected, 1 otherwise (130 when interrupted); the app and the database server it
 * started are stopped on every exit.
 *
 * Usage: npm run demo   (builds first; or `node scripts/demo.mjs` after `npm run build`)
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const APP_ENTRY = join(ROOT, 'sample-app', 'dist', 'main.js');
const LIBRARY_ENTRY = join(ROOT, 'dist', 'index.js');
const STAND_IN_SOURCE = join(ROOT, 'test', 'harness', 'mongo-server.ts');
const CACHE_DIR = join(ROOT, '.cache', 'demo');

const DEFAULT_LIMIT = 10;
const DEFAULT_WINDOW_MS = 60_000;
const LOGIN_LIMIT = 5;
const LOGIN_WINDOW_MS = 3_000;
const LOGIN_ATTEMPTS = LOGIN_LIMIT + 2;
const HEALTH_REQUESTS = DEFAULT_LIMIT + 2;
/** Escalation, shortened: the library defaults are 3 violations, 15 minutes, 10 violations. */
const BLOCK_AFTER = 3;
const BLOCK_MS = 4_000;
const BAN_AFTER = 6;
/** Attempts allowed between the end of the block and the ban before the demo gives up. */
const MAX_ATTEMPTS_TO_BAN = 15;
/** Clients played through X-Forwarded-For (documentation address ranges, RFC 5737). */
const OFFENDER = '203.0.113.7';
/** The sample app's `quote` query: `@Throttle({ limit: 3 })`, the default rule's 60 s window. */
const GRAPHQL_LIMIT = 3;
const GRAPHQL_CLIENT = '192.0.2.50';
const BYSTANDER = '198.51.100.23';
const CHATTER = '192.0.2.44';
/** The sample app's chat gateway: its `chat` rule admits 5 messages per 10 s. */
const CHAT_LIMIT = 5;
const ADMIN_KEY = randomBytes(16).toString('hex');
const STARTUP_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 5_000;
/** From the first start of the app to the end; setting up the database comes before. */
const OVERALL_TIMEOUT_MS = 60_000;
/** Fetching the stand-in's jars with Maven, once per machine. */
const JAR_FETCH_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Terminal output

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : String(text));
const bold = paint('1');
const dim = paint('2');
const red = paint('31');
const green = paint('32');
const yellow = paint('33');
const cyan = paint('36');

const COLUMNS = [
  { title: 'time', width: 7, align: 'right' },
  { title: 'client', width: 13 },
  { title: 'request', width: 23 },
  { title: 'status', width: 6 },
  { title: 'RateLimit', width: 38 },
  { title: 'Retry-After', width: 11 },
];

/** Pads by visible width, so coloured cells stay aligned. */
function cell(text, { width, align }) {
  // eslint-disable-next-line no-control-regex -- strips ANSI colour codes, which start with ESC
  const pad = ' '.repeat(Math.max(0, width - String(text).replace(/\x1b\[[0-9;]*m/g, '').length));
  return align === 'right' ? pad + text : text + pad;
}

function row(cells) {
  console.log(
    '  ' +
      cells
        .map((text, i) => cell(text, COLUMNS[i]))
        .join('  ')
        .trimEnd(),
  );
}

function heading(number, title, { table = true } = {}) {
  console.log(`\n${bold(cyan(`${number}.`))} ${bold(title)}`);
  if (table) row(COLUMNS.map((c) => dim(c.title)));
}

function note(text) {
  console.log(`  ${' '.repeat(COLUMNS[0].width)}  ${dim(text)}`);
}

const seconds = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const firstLine = (text) => String(text).split('\n')[0].trim();

// ---------------------------------------------------------------------------------------------
// Checks and clean-up

class DemoFailure extends Error {}

function expect(condition, message) {
  if (!condition) throw new DemoFailure(message);
}

/** Undo actions (stop the app, stop the database server, remove files), run last-in first-out. */
const cleanups = [];
let cleaning;
function cleanUp() {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()();
      } catch (error) {
        console.error(dim(`demo: clean-up step failed: ${error?.message ?? error}`));
      }
    }
  })();
  return cleaning;
}

let interrupted = false;
let appEverReady = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: leave at once
    interrupted = true;
    console.error(red(`\ndemo: ${signal} received, stopping the app and the database server ...`));
    cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Storage: MONGO_URL, the mongo-java-server stand-in on an H2 file, or memory

/**
 * The stand-in launcher is test/harness/mongo-server.ts (TypeScript, free of Jest). Node cannot run
 * it as is, so it is transpiled once per version of the file into .cache/demo/ with the
 * `typescript` package the build already uses, and imported from there.
 */
async function loadStandInLauncher() {
  const source = await readFile(STAND_IN_SOURCE, 'utf8');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const compiled = join(CACHE_DIR, `mongo-server.${hash}.mjs`);
  if (!existsSync(compiled)) {
    const { default: ts } = await import('typescript');
    const { outputText } = ts.transpileModule(source, {
      fileName: 'mongo-server.ts',
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
    });
    if (/^\s*(import|export)\b[^;]*from\s+['"]\./m.test(outputText)) {
      throw new DemoFailure(`${STAND_IN_SOURCE} now imports a relative module; the demo transpiles that file alone and cannot load it`);
    }
    await mkdir(CACHE_DIR, { recursive: true });
    const partial = `${compiled}.${process.pid}.tmp`;
    await writeFile(partial, outputText);
    await rename(partial, compiled);
  }
  return import(pathToFileURL(compiled).href);
}

/**
 * Decides where the app keeps its state. Resolves to `{ kind, label, env, survivesRestart }`, `env`
 * being what the app is started with; registers the clean-up of whatever it started.
 */
async function pickStorage() {
  const redisUrl = process.env.REDIS_URL?.trim();
  const url = process.env.MONGO_URL?.trim();
  if (redisUrl) {
    // A prefix of its own, so that a previous run's bans and counters play no part.
    const prefix = `rampart-demo-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}:`;
    const dbName = `rampart_demo_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
    cleanups.push(() => (appEverReady ? deleteRedisKeys(redisUrl, prefix) : undefined));
    if (url) cleanups.push(() => (appEverReady ? dropDatabase(url, dbName) : undefined));
    const redis = `Redis from REDIS_URL (${redact(redisUrl)}), keys under ${prefix}, deleted at the end`;
    return {
      kind: 'redis',
      label: url
        ? `counters in ${redis}; bans, violations and lists in MongoDB from MONGO_URL (${redact(url)}), database ${dbName}, dropped at the end`
        : redis,
      env: { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, ...(url ? { MONGO_URL: url, MONGO_DB: dbName } : {}) },
      survivesRestart: true,
    };
  }
  if (url) {
    // A database of its own, so that a previous run's bans and counters play no part.
    const dbName = `rampart_demo_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
    // Only an app that started has written anything there.
    cleanups.push(() => (appEverReady ? dropDatabase(url, dbName) : undefined));
    return {
      kind: 'mongo',
      label: `MongoDB from MONGO_URL (${redact(url)}), database ${dbName}, dropped at the end`,
      env: { MONGO_URL: url, MONGO_DB: dbName },
      survivesRestart: true,
    };
  }

  let launcher;
  try {
    launcher = await loadStandInLauncher();
  } catch (error) {
    if (error instanceof DemoFailure) throw error;
    throw new DemoFailure(`could not load the MongoDB stand-in launcher (${STAND_IN_SOURCE}): ${error?.message ?? error}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'rampart-demo-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'rampart.mv.db');
  const logPath = join(CACHE_DIR, 'mongo-stand-in.log');
  await mkdir(CACHE_DIR, { recursive: true });
  const log = createWriteStream(logPath, { flags: 'w' });
  cleanups.push(() => new Promise((resolve) => log.end(resolve)));
  const began = Date.now();
  try {
    const server = await launcher.startMongoStandIn({
      root: ROOT,
      backend: `h2:${file}`,
      timeoutMs: JAR_FETCH_TIMEOUT_MS,
      log: (message) => console.log(dim(`storage: ${message}`)),
      // The server logs failed commands (an expected duplicate key too): kept out of the output.
      onStderr: (line) => log.write(`${line}\n`),
    });
    cleanups.push(() => server.stop());
    return {
      kind: 'stand-in',
      log: logPath,
      label: `mongo-java-server stand-in at ${server.url}, H2 file ${file}; ready in ${seconds(Date.now() - began)}`,
      env: { MONGO_URL: server.url, MONGO_DB: 'rampart_demo' },
      survivesRestart: true,
    };
  } catch (error) {
    if (!(error instanceof launcher.MongoStandInError)) throw error;
    return {
      kind: 'memory',
      label: `in memory, as no MongoDB could be started: ${firstLine(error.message)}. The escalation below runs in memory and skips the restart step.`,
      env: {},
      survivesRestart: false,
    };
  }
}

/** A connection string without the credentials it may hold. */
function redact(url) {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** Deletes the keys the demo wrote in the caller's Redis. */
async function deleteRedisKeys(url, prefix) {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  try {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) deleted += await client.del(key);
    } while (cursor !== '0');
    console.log(dim(`storage: deleted ${deleted} Redis keys under ${prefix}`));
  } finally {
    client.disconnect();
  }
}

/** Drops the database the demo made in the caller's MongoDB. */
async function dropDatabase(url, dbName) {
  const { default: mongoose } = await import('mongoose');
  const connection = mongoose.createConnection(url, { dbName, serverSelectionTimeoutMS: 5_000 });
  try {
    await connection.asPromise();
    await connection.dropDatabase();
    console.log(dim(`storage: dropped database ${dbName}`));
  } catch (error) {
    console.error(yellow(`demo: could not drop database ${dbName} (${firstLine(error?.message ?? error)}); drop it by hand`));
  } finally {
    await connection.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// The sample app as a child process

function startApp(storageEnv) {
  const env = {
    ...process.env,
    PORT: '0',
    RATE_LIMIT_DEFAULT: String(DEFAULT_LIMIT),
    RATE_LIMIT_WINDOW_MS: String(DEFAULT_WINDOW_MS),
    RATE_LIMIT_LOGIN: String(LOGIN_LIMIT),
    RATE_LIMIT_LOGIN_WINDOW_MS: String(LOGIN_WINDOW_MS),
    ESCALATION_BLOCK_AFTER: String(BLOCK_AFTER),
    ESCALATION_BLOCK_MS: String(BLOCK_MS),
    ESCALATION_BAN_AFTER: String(BAN_AFTER),
    RATE_LIMIT_ADMIN_KEY: ADMIN_KEY,
    TRUST_PROXY: 'loopback',
  };
  delete env.MONGO_URL;
  delete env.MONGO_DB;
  delete env.REDIS_URL;
  delete env.REDIS_PREFIX;
  Object.assign(env, storageEnv);
  const child = spawn(process.execPath, [APP_ENTRY], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (output += chunk));

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const hint = storageEnv.MONGO_URL ? ' (is the MongoDB at MONGO_URL reachable?)' : '';
      reject(new DemoFailure(`the sample app did not report "listening on" within ${seconds(STARTUP_TIMEOUT_MS)}${hint}\n${output}`));
    }, STARTUP_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        const lines = output.trim().split('\n');
        resolve({
          baseUrl: match[1].replace(/\/$/, ''),
          line: lines.find((l) => l.includes('listening on')),
          details: lines.filter((l) => !l.includes('listening on')),
        });
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new DemoFailure(`could not start the sample app: ${error.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new DemoFailure(`the sample app exited (${signal ?? `code ${code}`}) before listening:\n${output.trim()}`));
    });
  });
  ready.catch(() => {}); // handled by the caller; avoids an unhandled rejection after success

  let stopping;
  function stop() {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // A pending timer would hold the demo's exit back: cancel it once the app is gone.
      const patience = new AbortController();
      const timeout = sleep(5_000, 'timeout', { signal: patience.signal }).catch(() => undefined);
      const first = await Promise.race([exited, timeout]);
      patience.abort();
      if (first === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return stopping;
  }

  return { child, ready, exited, stop };
}

// ---------------------------------------------------------------------------------------------
// Traffic

/** A WebSocket client of the sample app's chat gateway, speaking for `client` through X-Forwarded-For. */
async function openChat(baseUrl, client) {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/chat`, { headers: { 'x-forwarded-for': client } });
  const inbox = [];
  const waiting = [];
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw));
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else inbox.push(message);
  });
  const closed = new Promise((resolve) => socket.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', (error) => reject(new DemoFailure(`the chat connection failed: ${error.message}`)));
  });
  cleanups.push(() => socket.terminate());
  const next = () =>
    inbox.length > 0
      ? Promise.resolve(inbox.shift())
      : Promise.race([
          new Promise((resolve) => waiting.push(resolve)),
          sleep(REQUEST_TIMEOUT_MS).then(() => {
            throw new DemoFailure('the chat gateway did not answer');
          }),
        ]);
  return {
    next,
    closed,
    isOpen: () => socket.readyState === WebSocket.OPEN,
    exchange(message) {
      socket.send(JSON.stringify(message));
      return next();
    },
  };
}

async function main() {
  if (!existsSync(LIBRARY_ENTRY) || !existsSync(APP_ENTRY)) {
    console.error(
      `${red('demo:')} the build output is missing (${!existsSync(LIBRARY_ENTRY) ? 'dist/index.js' : 'sample-app/dist/main.js'}).\n` +
        `Run ${bold('npm run build')} first, or use ${bold('npm run demo')}, which builds.`,
    );
    return 1;
  }

  const startedAt = Date.now();
  console.log(
    bold('nest-rampart demo') +
      dim(
        `: the sample app on a free port, login window shortened to ${LOGIN_WINDOW_MS / 1000} s, ` +
          `blocks to ${BLOCK_MS / 1000} s, permanent ban after ${BAN_AFTER} violations`,
      ),
  );
  let watchdog;
  let storage;
  try {
    storage = await pickStorage();
    console.log((storage.kind === 'memory' ? yellow : dim)(`storage: ${storage.label}`));

    let app;
    cleanups.push(() => app?.stop());
    const appStartedAt = Date.now();
    watchdog = setTimeout(() => {
      console.error(red(`\ndemo: gave up after ${seconds(OVERALL_TIMEOUT_MS)}`));
      cleanUp().finally(() => process.exit(1));
    }, OVERALL_TIMEOUT_MS);

    /** Starts the app and waits until it listens; prints its start-up log. */
    async function launch() {
      const began = Date.now();
      app = startApp(storage.env);
      const started = await app.ready;
      appEverReady = true;
      console.log(dim(`app: ${started.line}; ready in ${seconds(Date.now() - began)}`));
      for (const line of started.details) console.log(dim(`app: ${line}`));
      return started.baseUrl;
    }

    let baseUrl = await launch();
    const t0 = Date.now();

    /**
     * Sends one request and prints its row; the policy and the body's detail get a line of their
     * own. `client` is sent as X-Forwarded-For (the app trusts loopback as a proxy).
     */
    async function send(method, path, { client, auth, label, showPolicy = false, showDetail = false } = {}) {
      const sentAt = Date.now();
      const headers = {};
      if (client) headers['x-forwarded-for'] = client;
      if (auth) headers.authorization = `Bearer ${auth}`;
      let res;
      try {
        res = await fetch(baseUrl + path, { method, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch (error) {
        throw new DemoFailure(`${method} ${path} failed: ${error.cause?.message ?? error.message}`);
      }
      const body = await res.text();
      const seen = {
        rateLimit: res.headers.get('ratelimit'),
        policy: res.headers.get('ratelimit-policy'),
        retryAfter: res.headers.get('retry-after'),
        contentSecurityPolicy: res.headers.get('content-security-policy'),
      };
      const status = res.status === 429 || res.status === 403 || res.status === 401 ? red(res.status) : res.ok ? green(res.status) : yellow(res.status);
      row([
        `+${((sentAt - t0) / 1000).toFixed(2)}s`,
        client ?? (auth === undefined ? '127.0.0.1' : auth ? 'operator' : 'anonymous'),
        label ?? `${method.padEnd(4)} ${path}`,
        status,
        seen.rateLimit ?? dim('-'),
        seen.retryAfter ? yellow(`${seen.retryAfter} s`) : dim('-'),
      ]);
      if (showPolicy && seen.policy) note(`RateLimit-Policy: ${seen.policy}`);
      let json;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      if (showDetail && json?.detail) note(`${res.status}: ${json.detail}`);
      return { status: res.status, headers: seen, json };
    }

    /** Fixed windows are aligned to the clock: if the current one is nearly over, wait for the next. */
    async function startOfLoginWindow() {
      const leftInWindow = LOGIN_WINDOW_MS - (Date.now() % LOGIN_WINDOW_MS);
      if (leftInWindow < LOGIN_WINDOW_MS / 2) {
        note(`(the current ${LOGIN_WINDOW_MS / 1000} s login window ends in ${seconds(leftInWindow)}: starting in the next one)`);
        await sleep(leftInWindow + 20);
      }
    }

    // 1. The default rule on GET /
    heading(1, `GET / ${dim(`module default rule: ${DEFAULT_LIMIT} per ${DEFAULT_WINDOW_MS / 1000} s, sliding window`)}`);
    for (let i = 0; i < 3; i++) {
      const { status, headers } = await send('GET', '/', { showPolicy: i === 0 });
      expect(status === 200, `GET / answered ${status}, expected 200`);
      expect(headers.rateLimit?.includes(`r=${DEFAULT_LIMIT - 1 - i}`), `GET / RateLimit header is ${headers.rateLimit}, expected r=${DEFAULT_LIMIT - 1 - i}`);
    }

    // 2. @SkipThrottle()
    heading(2, `GET /health ${dim(`@SkipThrottle(): ${HEALTH_REQUESTS} requests, more than any limit, none counted`)}`);
    for (let i = 0; i < HEALTH_REQUESTS; i++) {
      const { status, headers, json } = await send('GET', '/health');
      expect(status === 200, `GET /health answered ${status}: a skipped route must never be limited`);
      expect(headers.rateLimit === null, `GET /health sent RateLimit: ${headers.rateLimit}; a skipped route sends no rate-limit headers`);
      expect(json?.info?.rampart?.status === 'up', `GET /health said ${JSON.stringify(json)}; the rate-limit storage should be up`);
      // The terminus check of the rate-limit storage: status, the probe's latency, the storage ready.
      if (i === 0) note(`${JSON.stringify(json.info)}`);
    }

    // 3. The login rule, all attempts in one window.
    heading(3, `POST /auth/login ${dim(`@Throttle login rule: ${LOGIN_LIMIT} per ${LOGIN_WINDOW_MS / 1000} s fixed window, ${LOGIN_ATTEMPTS} attempts`)}`);
    await startOfLoginWindow();
    const statuses = [];
    let denial;
    for (let i = 0; i < LOGIN_ATTEMPTS; i++) {
      const response = await send('POST', '/auth/login', { showPolicy: i === 0 });
      statuses.push(response.status);
      if (response.status === 429 && !denial) {
        denial = response;
        if (response.json?.detail) note(`429 body detail: ${response.json.detail}`);
      }
    }
    const expected = [...Array(LOGIN_LIMIT).fill(201), ...Array(LOGIN_ATTEMPTS - LOGIN_LIMIT).fill(429)];
    expect(statuses.includes(429), `no 429 in ${LOGIN_ATTEMPTS} login attempts (statuses ${statuses.join(', ')})`);
    expect(statuses.join() === expected.join(), `login statuses were ${statuses.join(', ')}, expected ${expected.join(', ')}`);
    const retryAfter = Number(denial.headers.retryAfter);
    expect(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter * 1000 <= LOGIN_WINDOW_MS,
      `the 429 carried Retry-After: ${denial.headers.retryAfter}, expected whole seconds within the ${LOGIN_WINDOW_MS / 1000} s window`,
    );
    expect(denial.json?.rule === 'login', `the 429 named rule ${JSON.stringify(denial.json?.rule)}, expected "login"`);

    // 4. Recovery: wait what the server said, no more (a few ms of slack for timer granularity).
    heading(4, `Recovery ${dim(`wait the ${retryAfter} s Retry-After asked for, then try again`)}`);
    note(`waiting ${retryAfter} s ...`);
    await sleep(retryAfter * 1000 + 25);
    const again = await send('POST', '/auth/login');
    expect(again.status === 201, `after waiting Retry-After (${retryAfter} s) the login attempt got ${again.status}, expected 201`);
    const stillHealthy = await send('GET', '/health');
    expect(stillHealthy.status === 200, `GET /health answered ${stillHealthy.status} at the end`);

    // 5. Escalation: each request a rule denies is a violation; BLOCK_AFTER of them start a block.
    heading(
      5,
      `Block ${dim(`client ${OFFENDER} (X-Forwarded-For) keeps trying to log in: ${BLOCK_AFTER} violations start a ${BLOCK_MS / 1000} s block (default 15 min)`)}`,
    );
    await startOfLoginWindow();
    const round1 = [];
    for (let i = 0; i < LOGIN_LIMIT + BLOCK_AFTER; i++) {
      const response = await send('POST', '/auth/login', { client: OFFENDER });
      round1.push(response);
      if (response.status === 429 && !response.json?.blockedUntil) note(`violation ${i + 1 - LOGIN_LIMIT}: rule '${response.json?.rule}'`);
    }
    const describeAll = (responses) => responses.map((r) => (r.json?.blockedUntil ? '429(block)' : r.status)).join(' ');
    const expectedRound1 = [...Array(LOGIN_LIMIT).fill(201), ...Array(BLOCK_AFTER - 1).fill(429), '429(block)'].join(' ');
    expect(describeAll(round1) === expectedRound1, `client ${OFFENDER} got ${describeAll(round1)}, expected ${expectedRound1}`);
    const block = round1.at(-1);
    note(`violation ${BLOCK_AFTER}: ${block.json.detail}`);
    const blockSeconds = Number(block.headers.retryAfter);
    expect(
      Number.isInteger(blockSeconds) && blockSeconds >= 1 && blockSeconds <= Math.ceil(BLOCK_MS / 1000),
      `the block's 429 carried Retry-After: ${block.headers.retryAfter}, expected whole seconds up to ${Math.ceil(BLOCK_MS / 1000)}`,
    );
    const during = await send('POST', '/auth/login', { client: OFFENDER });
    expect(
      during.status === 429 && during.json?.blockedUntil === block.json.blockedUntil,
      `during the block ${OFFENDER} got ${during.status} ${JSON.stringify(during.json)}, expected 429 with blockedUntil ${block.json.blockedUntil}`,
    );
    expect(during.headers.rateLimit === null, `a request refused by a block was counted by the rules (RateLimit: ${during.headers.rateLimit})`);
    note('refused by the block before any rule: not counted, no violation');

    // 6. After the block, every further violation counts towards the permanent ban.
    heading(
      6,
      `Ban ${dim(`the block ends; ${BAN_AFTER} violations in all (default 10 within 24 h) ban ${OFFENDER} for good: 403 until an operator lifts it`)}`,
    );
    note(`waiting the block's ${blockSeconds} s Retry-After ...`);
    await sleep(blockSeconds * 1000 + 25);
    const round2 = [];
    let violations = BLOCK_AFTER;
    for (let i = 0; i < MAX_ATTEMPTS_TO_BAN; i++) {
      const response = await send('POST', '/auth/login', { client: OFFENDER });
      round2.push(response);
      if (response.status === 429 && !response.json?.blockedUntil) note(`violation ${++violations}: rule '${response.json?.rule}'`);
      else if (response.status !== 201) break;
    }
    const ban = round2.at(-1);
    expect(
      ban.status === 403 && ban.json?.reason === 'banned',
      `${OFFENDER} was not banned after ${violations} violations (${describeAll(round2)}), expected a 403 at violation ${BAN_AFTER}`,
    );
    note(`violation ${++violations}: ${ban.json.detail}`);
    expect(violations === BAN_AFTER, `${OFFENDER} was banned at violation ${violations} (${describeAll(round2)}), expected violation ${BAN_AFTER}`);
    const banned = await send('GET', '/', { client: OFFENDER });
    expect(banned.status === 403, `the banned ${OFFENDER} got ${banned.status} on GET /, expected 403 (a ban covers every limited route)`);
    const bystander = await send('POST', '/auth/login', { client: BYSTANDER });
    expect(bystander.status === 201, `another client (${BYSTANDER}) got ${bystander.status}, expected 201: a ban is per client`);
    note(`${BYSTANDER} is not affected`);

    // 7. The ban lives in the storage, not in the app's process.
    if (storage.survivesRestart) {
      heading(7, `Restart ${dim('the app is stopped and started again on the same storage; the ban is still in force')}`, { table: false });
      await app.stop();
      const { code, signal } = await app.exited;
      console.log(dim(`app: stopped (${signal ?? `exit code ${code}`})`));
      baseUrl = await launch();
      row(COLUMNS.map((c) => dim(c.title)));
      const afterRestart = await send('POST', '/auth/login', { client: OFFENDER, showDetail: true });
      expect(afterRestart.status === 403, `after the restart ${OFFENDER} got ${afterRestart.status}, expected 403: the ban did not survive`);
    } else {
      heading(7, `Restart ${dim('skipped')}`, { table: false });
      note('the in-memory storage lives in the app process: a restart would forget the ban. Set MONGO_URL, or install a JDK 17+ and Maven, to see it survive.');
    }

    // 8. The operator's side.
    heading(8, `Operator ${dim('the admin API at /rate-limit: Authorization: Bearer <RATE_LIMIT_ADMIN_KEY>')}`);
    const anonymous = await send('GET', '/rate-limit/bans', { auth: '', label: 'GET  /rate-limit/bans', showDetail: true });
    expect(anonymous.status === 401, `GET /rate-limit/bans without the key answered ${anonymous.status}, expected 401`);
    const listed = await send('GET', '/rate-limit/bans', { auth: ADMIN_KEY, label: 'GET  /rate-limit/bans' });
    expect(listed.status === 200 && Array.isArray(listed.json?.items), `GET /rate-limit/bans answered ${listed.status} ${JSON.stringify(listed.json)}`);
    for (const b of listed.json.items) {
      const until = b.kind === 'permanent' ? 'until lifted' : `until ${b.expiresAt}`;
      note(`ban: ${b.key ?? b.cidr}  ${b.kind} (${b.source}), ${b.active ? 'in force' : 'not in force'} ${until}; block count ${b.blockCount}; ${b.reason}`);
    }
    const record = listed.json.items.find((b) => b.key === OFFENDER);
    expect(
      record?.kind === 'permanent' && record.active,
      `the bans listed hold no permanent ban in force for ${OFFENDER}: ${JSON.stringify(listed.json.items)}`,
    );
    const dashboard = await send('GET', '/rate-limit/dashboard', { label: 'GET  /rate-limit/dashboard' });
    expect(
      dashboard.status === 200 && /script-src 'self'/.test(dashboard.headers.contentSecurityPolicy ?? ''),
      `GET /rate-limit/dashboard answered ${dashboard.status}`,
    );
    note(`the dashboard: open ${baseUrl}/rate-limit/dashboard in a browser and sign in with the admin key (the same API, one page)`);
    const liftPath = `/rate-limit/bans?key=${encodeURIComponent(OFFENDER)}&clearHistory=true`;
    note(`DELETE ${liftPath}`);
    const lift = await send('DELETE', liftPath, { auth: ADMIN_KEY, label: 'DELETE /rate-limit/bans' });
    expect(lift.status === 200 && lift.json?.ban?.active === false, `lifting the ban answered ${lift.status} ${JSON.stringify(lift.json)}`);
    note(`lifted by ${lift.json.ban.liftedBy} at ${lift.json.ban.liftedAt}; history cleared: ${lift.json.historyCleared}`);

    // 9. Admitted again (counted by the rules afresh: violations and block count forgotten).
    heading(9, `Admitted again ${dim(`${OFFENDER}'s requests are answered by the rules again`)}`);
    const admitted = await send('GET', '/', { client: OFFENDER });
    expect(admitted.status === 200, `after the lift ${OFFENDER} got ${admitted.status} on GET /, expected 200`);
    note('(a lift ends the ban, not the rate limits: counters of routes it exhausted still run out their windows)');

    // 10. A WebSocket client: limited per message, then closed by a ban.
    heading(10, `WebSocket ${dim(`client ${CHATTER} on ws://.../chat: the chat rule (${CHAT_LIMIT} per 10 s), then an operator's ban`)}`, { table: false });
    const chat = await openChat(baseUrl, CHATTER);
    const replies = [];
    for (let i = 1; i <= CHAT_LIMIT + 1; i++) replies.push(await chat.exchange({ event: 'message', data: `hello ${i}` }));
    const limited = replies.at(-1);
    note(`${CHAT_LIMIT} messages echoed; message ${CHAT_LIMIT + 1}: ${JSON.stringify(limited)}`);
    expect(
      replies.slice(0, CHAT_LIMIT).every((r) => r.event === 'message') && limited.event === 'exception' && limited.data?.code === 'RATE_LIMITED',
      `the chat client got ${JSON.stringify(replies)}, expected ${CHAT_LIMIT} echoes then RATE_LIMITED`,
    );
    expect(chat.isOpen(), 'the chat connection was closed by a RATE_LIMITED message; it must stay open');
    note('the connection stays open');
    const chatBan = await fetch(`${baseUrl}/rate-limit/bans`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: CHATTER, kind: 'permanent', reason: 'demo: chat abuse' }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    expect(chatBan.status === 201, `banning ${CHATTER} through the admin API answered ${chatBan.status}`);
    note(`operator: POST /rate-limit/bans { key: '${CHATTER}', kind: 'permanent' } → ${chatBan.status}`);
    const [farewell, closeCode] = await Promise.all([chat.next(), chat.closed]);
    note(`the open socket gets ${JSON.stringify(farewell.data?.code)} and is closed with code ${closeCode}`);
    expect(
      farewell.data?.code === 'BANNED' && closeCode === 1008,
      `after the ban the socket got ${JSON.stringify(farewell)} and close ${closeCode}, expected BANNED and 1008`,
    );
    const refused = await openChat(baseUrl, CHATTER);
    const [refusal, refusedCode] = await Promise.all([refused.next(), refused.closed]);
    note(`a new connection: ${JSON.stringify(refusal.data?.code)}, closed with ${refusedCode} at the handshake`);
    expect(refusal.data?.code === 'BANNED' && refusedCode === 1008, `a banned client's new connection got ${JSON.stringify(refusal)} and ${refusedCode}`);

    // 11. GraphQL: a resolver limited like a route, refused with a GraphQL error (the other fields still resolve).
    heading(11, `GraphQL ${dim(`POST /graphql { quote }: @Throttle({ limit: ${GRAPHQL_LIMIT} }) on the resolver, keyed Query.quote`)}`);
    const codes = [];
    for (let i = 0; i <= GRAPHQL_LIMIT; i++) {
      const sentAt = Date.now();
      const res = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': GRAPHQL_CLIENT },
        body: JSON.stringify({ query: '{ quote }' }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const json = await res.json();
      const code = json.errors?.[0]?.extensions?.code;
      codes.push(code ?? 'data');
      const retry = res.headers.get('retry-after');
      row([
        `+${((sentAt - t0) / 1000).toFixed(2)}s`,
        GRAPHQL_CLIENT,
        'POST /graphql { quote }',
        code ? red(res.status) : green(res.status),
        res.headers.get('ratelimit') ?? dim('-'),
        retry ? yellow(`${retry} s`) : dim('-'),
      ]);
      if (code) note(`errors[0].extensions.code ${code}: ${json.errors[0].message} (data: ${JSON.stringify(json.data)})`);
    }
    const expectedCodes = [...Array(GRAPHQL_LIMIT).fill('data'), 'RATE_LIMITED'];
    expect(codes.join() === expectedCodes.join(), `GraphQL answers were ${codes.join(', ')}, expected ${expectedCodes.join(', ')}`);

    // 12. What an operator watches: Prometheus metrics and the admin API's statistics.
    heading(12, `Observability ${dim('GET /metrics (this instance, since it started) and GET /rate-limit/stats (the fleet, last 15 min)')}`);
    const metrics = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const exposition = await metrics.text();
    const hits = exposition.split('\n').filter((line) => line.startsWith('rate_limit_hits_total{'));
    for (const line of hits) note(line);
    for (const line of exposition.split('\n').filter((l) => l.startsWith('rampart_decisions_total{') && !l.includes('outcome="allowed"'))) note(line);
    expect(
      metrics.status === 200 &&
        hits.some((l) => l.startsWith('rate_limit_hits_total{limit_type="ws_message"} ')) &&
        hits.some((l) => l.startsWith('rate_limit_hits_total{limit_type="graphql"} ')),
      `GET /metrics answered ${metrics.status} without the WebSocket and GraphQL limit hits: ${hits.join('; ')}`,
    );
    const stats = await send('GET', '/rate-limit/stats?windowMs=900000', { auth: ADMIN_KEY, label: 'GET  /rate-limit/stats' });
    const figures = stats.json ?? {};
    note(
      `requests ${figures.requests}, admitted ${figures.admitted}, limited ${figures.limited}, blocked ${figures.blocked}, banned ${figures.banned}; ` +
        `block rate ${((figures.blockRate ?? 0) * 100).toFixed(1)} %, ${figures.violationsPerMinute?.toFixed?.(2)} violations per minute, over ${figures.instances?.length} instance(s)`,
    );
    for (const r of (figures.topRules ?? []).slice(0, 3)) note(`rule ${r.rule}: ${r.requests} counted, ${r.refused} refused, ${r.nearLimit} near the limit`);
    for (const k of (figures.topKeys ?? []).slice(0, 3)) note(`client ${k.key}: ${k.refusals} refused`);
    expect(
      stats.status === 200 && figures.limited >= 2 && figures.banned >= 1 && figures.requests > figures.limited,
      `GET /rate-limit/stats answered ${stats.status} ${JSON.stringify(figures)}; expected the limited and banned requests of this walk`,
    );

    console.log(
      `\n${green('✔')} ${bold('demo passed')}: /health never limited; login ${expected.join(' ')} ` +
        `with Retry-After ${retryAfter} s; admitted again after waiting it. ${OFFENDER}: blocked after ${BLOCK_AFTER} violations, ` +
        `banned after ${BAN_AFTER}${storage.survivesRestart ? ', still banned after a restart' : ''}, admitted after the operator lifted the ban. ` +
        `WebSocket: RATE_LIMITED after ${CHAT_LIMIT} messages, closed with 1008 by a ban; GraphQL { quote } answered RATE_LIMITED after ${GRAPHQL_LIMIT}; ` +
        `all of it in /metrics and /rate-limit/stats. ` +
        dim(`Total ${seconds(Date.now() - startedAt)} (${seconds(Date.now() - appStartedAt)} from the first app start).`),
    );
    return 0;
  } catch (error) {
    if (interrupted) return 130;
    const message = error instanceof DemoFailure ? error.message : (error?.stack ?? String(error));
    console.error(`\n${red('✘ demo failed:')} ${message}`);
    if (storage?.log) console.error(dim(`(the database server's log: ${storage.log})`));
    return 1;
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
  }
}

process.exitCode = await main();
