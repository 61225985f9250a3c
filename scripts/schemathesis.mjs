#!/usr/bin/env node
/**
 * Schemathesis run against the admin API's OpenAPI document: a second, black-box check after the
 * fast-check property tests. For each storage (memory; MongoDB too when MONGO_URL is set):
 *
 *   1. the sample app's AppModule (sample-app/dist, built) is started on a free loopback port with a
 *      random admin key, with the OpenAPI document served at /openapi.json;
 *   2. without credentials, and with a wrong key, every admin operation must answer 401;
 *   3. `schemathesis run` generates valid and invalid requests for every admin operation and checks
 *      each response: no 5xx, only documented status codes, documented content type, body matching
 *      the documented schema, invalid input refused and valid input accepted, auth enforced;
 *   4. the app is stopped.
 *
 * Schemathesis is installed, pinned, in a Python venv under .cache/schemathesis-venv (created on the
 * first run, reused afterwards). Exits 0 when every check passes, 1 otherwise (130 when interrupted).
 *
 * Environment: MONGO_URL also runs on MongoDB (in a database of its own, dropped at the end);
 * SCHEMATHESIS_MAX_EXAMPLES (default 100) test cases per operation and phase; SCHEMATHESIS_SEED to
 * replay a run (the seed is printed); PYTHON (default python3) to create the venv.
 *
 * Usage: npm run check:schemathesis   (builds first; or `node scripts/schemathesis.mjs` after `npm run build`)
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SCHEMATHESIS_VERSION = '4.32.5';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE_DIR = join(ROOT, '.cache');
const VENV_DIR = join(CACHE_DIR, 'schemathesis-venv');
const VENV_BIN = join(VENV_DIR, process.platform === 'win32' ? 'Scripts' : 'bin');
const SCHEMATHESIS = join(VENV_BIN, process.platform === 'win32' ? 'schemathesis.exe' : 'schemathesis');
const WORK_DIR = join(CACHE_DIR, 'schemathesis');
const APP_MODULE = join(ROOT, 'sample-app', 'dist', 'app.module.js');
const LIBRARY_ENTRY = join(ROOT, 'dist', 'index.js');

/** Where the sample app mounts the admin API (`admin: {}`: the default path). */
const ADMIN_PATH = '/rate-limit';
const DOCUMENT_PATH = '/openapi.json';
const ADMIN_KEY = randomBytes(24).toString('base64url');
const MAX_EXAMPLES = positiveInteger('SCHEMATHESIS_MAX_EXAMPLES', 100);
const SEED = positiveInteger('SCHEMATHESIS_SEED', randomInt(1, 2 ** 31));
const STARTUP_TIMEOUT_MS = 30_000;
/** One schemathesis run; the whole check should stay well under 3 minutes. */
const RUN_TIMEOUT_MS = 150_000;

/**
 * What every response is checked for. `ignored_auth` re-sends requests without the header and wants
 * a 401/403. Left out: `use_after_free`, `ensure_resource_availability` and
 * `object_level_authorization` need links between operations (the document has none);
 * `missing_required_header` needs a required header parameter (there is none); and
 * `unsupported_method`, a false positive here: it wants 405 (not 404) for a method the document does
 * not list on a path, such as TRACE /rate-limit/bans. The admin API is a few routes in the host
 * app's router, and a request no route matches is answered by the app's not-found handler (Nest's
 * 404), as for any path of the app; the library could only answer 405 by declaring a route for every
 * other method, and Nest cannot declare TRACE routes at all. The document makes no claim about
 * undeclared methods, so their 404 breaks no part of it.
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'response_headers_conformance',
  'negative_data_rejection',
  'positive_data_acceptance',
  'ignored_auth',
];

/**
 * `positive_data_acceptance` wants every request that fits the document answered 2xx (or 401, 403,
 * 404...). These operations also refuse, with a 400 naming the problem, requests that no OpenAPI
 * 3.0 schema can rule out: the check is off for them alone (`not_a_server_error` and the conformance
 * checks still run). Every other operation keeps it.
 */
const POSITIVE_DATA_EXCEPTIONS = [
  [
    'GET',
    '/bans',
    '`key` and `cidr` are exclusive (parameters cannot exclude each other); `cidr` must not have host bits set (203.0.113.7/24); `cursor` is an opaque token only the server mints',
  ],
  ['POST', '/bans', 'exactly one of `key` and `cidr`; `durationMs` required for temporary bans and refused for permanent ones; `cidr` without host bits'],
  ['DELETE', '/bans', 'exactly one of the optional `key` and `cidr` parameters; `cidr` without host bits'],
  ['GET', '/violations', '`from` must be earlier than `to`; `cursor` is an opaque token only the server mints'],
  ['POST', '/access-list', '`cidr` without host bits; `expiresAtMs` must be in the future (it depends on the clock)'],
  ['DELETE', '/access-list', '`cidr` without host bits'],
];

// ---------------------------------------------------------------------------------------------
// Output

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : String(text));
const bold = paint('1');
const red = paint('31');
const green = paint('32');
const dim = paint('2');

/** Child processes to stop when this script is interrupted. */
const running = new Set();

const log = (line = '') => process.stdout.write(`${line}\n`);

function positiveInteger(name, fallback) {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    process.stderr.write(`${name} must be a positive integer, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return Number(raw);
}

/** Never print the admin key or MongoDB credentials. */
const redact = (text) =>
  String(text)
    .replaceAll(ADMIN_KEY, '<admin key>')
    .replace(/\/\/[^@/\s]*@/g, '//***@');

// ---------------------------------------------------------------------------------------------
// Schemathesis in a venv

async function ensureSchemathesis() {
  if (installedVersion() === SCHEMATHESIS_VERSION) return;
  const python = process.env.PYTHON?.trim() || 'python3';
  if (!existsSync(join(VENV_BIN, 'python')) && !existsSync(join(VENV_BIN, 'python.exe'))) {
    log(dim(`creating a Python venv in ${VENV_DIR}`));
    await mkdir(CACHE_DIR, { recursive: true });
    run(python, ['-m', 'venv', VENV_DIR], `${python} -m venv failed: install Python 3 with venv (Debian/Ubuntu: apt-get install python3-venv) or set PYTHON`);
  }
  log(dim(`installing schemathesis ${SCHEMATHESIS_VERSION} into the venv`));
  const pip = join(VENV_BIN, process.platform === 'win32' ? 'python.exe' : 'python');
  run(pip, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`], 'pip install failed');
  const version = installedVersion();
  if (version !== SCHEMATHESIS_VERSION) throw new Error(`schemathesis ${SCHEMATHESIS_VERSION} expected in the venv, found ${version ?? 'none'}`);
}

function installedVersion() {
  if (!existsSync(SCHEMATHESIS)) return null;
  const result = spawnSync(SCHEMATHESIS, ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(result.stdout ?? '')?.[1] ?? null;
}

function run(command, args, failure) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${failure} (${result.error?.message ?? `exit code ${result.status}`})`);
}

// ---------------------------------------------------------------------------------------------
// The sample app, with its OpenAPI document

/**
 * Runs in the app's process: the sample app's own module (storage, rules, admin API as `npm start`
 * has them), plus the OpenAPI document, which the sample app does not serve itself. Listens on
 * 127.0.0.1 only, on a port the system picks.
 */
const APP_SOURCE = `
const { NestFactory } = await import('@nestjs/core');
const { DocumentBuilder, SwaggerModule } = await import('@nestjs/swagger');
const { AppModule } = await import(${JSON.stringify(pathToFileURL(APP_MODULE).href)});
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
const config = new DocumentBuilder().setTitle('nest-rampart sample app').setVersion('1').addBearerAuth().build();
const document = SwaggerModule.createDocument(app, config);
SwaggerModule.setup('docs', app, document, { ui: false, raw: ['json'], jsonDocumentUrl: ${JSON.stringify(DOCUMENT_PATH)} });
await app.listen(0, '127.0.0.1');
console.log('LISTENING ' + app.getHttpServer().address().port);
`;

/** @returns {Promise<{ baseUrl: string, stop: () => Promise<void>, output: () => string }>} */
async function startApp(env) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', APP_SOURCE], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      RATE_LIMIT_ADMIN_KEY: ADMIN_KEY,
      // Nothing else of the sample app is exercised; its own settings stay as they are.
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk) => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let alive = true;
  void exited.then(() => {
    alive = false;
    running.delete(child);
  });

  const stop = async () => {
    if (!alive) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let port;
  while (port === undefined) {
    port = /LISTENING (\d+)/.exec(output)?.[1];
    if (port !== undefined) break;
    if (!alive) throw new Error(`the sample app exited before listening:\n${redact(output)}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the sample app did not start within ${STARTUP_TIMEOUT_MS / 1000} s:\n${redact(output)}`);
    }
    await sleep(50);
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  // Listening is not answering: wait for the document itself.
  for (;;) {
    try {
      const response = await fetch(baseUrl + DOCUMENT_PATH, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) break;
    } catch {
      // not yet
    }
    if (!alive || Date.now() > deadline) {
      await stop();
      throw new Error(`the sample app does not answer ${DOCUMENT_PATH}:\n${redact(output)}`);
    }
    await sleep(100);
  }
  return { baseUrl, stop, output: () => redact(output) };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Every admin operation of the document, as [method, path with placeholders filled]. */
async function adminOperations(baseUrl) {
  const document = await (await fetch(baseUrl + DOCUMENT_PATH)).json();
  const operations = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    if (!path.startsWith(ADMIN_PATH)) continue;
    for (const method of Object.keys(item)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) operations.push([method.toUpperCase(), path.replace(/\{[^}]+\}/g, '203.0.113.7')]);
    }
  }
  return operations;
}

/** Without the header, with another scheme and with a wrong key: 401, WWW-Authenticate, a problem body. */
async function checkUnauthenticated(baseUrl) {
  const operations = await adminOperations(baseUrl);
  if (operations.length === 0) return { operations: 0, requests: 0, problems: [`no operation under ${ADMIN_PATH} in ${DOCUMENT_PATH}`] };
  const attempts = [
    ['no Authorization header', undefined],
    ['Basic scheme', `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}`],
    ['wrong key', `Bearer ${randomBytes(24).toString('base64url')}`],
    ['key with a character less', `Bearer ${ADMIN_KEY.slice(0, -1)}`],
  ];
  const problems = [];
  let requests = 0;
  for (const [method, path] of operations) {
    for (const [label, authorization] of attempts) {
      const body = method === 'POST' ? JSON.stringify({ key: '203.0.113.7', kind: 'permanent', reason: 'unauthenticated' }) : undefined;
      const headers = { ...(body ? { 'content-type': 'application/json' } : {}), ...(authorization ? { authorization } : {}) };
      const response = await fetch(baseUrl + path + (method === 'DELETE' ? '?key=203.0.113.7&kind=deny&cidr=203.0.113.7' : ''), { method, headers, body });
      requests += 1;
      const text = await response.text();
      const where = `${method} ${path} (${label})`;
      if (response.status !== 401) problems.push(`${where}: ${response.status} instead of 401: ${text.slice(0, 200)}`);
      else if (!/^Bearer\b/.test(response.headers.get('www-authenticate') ?? '')) problems.push(`${where}: 401 without WWW-Authenticate: Bearer`);
      else if (!(response.headers.get('content-type') ?? '').includes('json'))
        problems.push(`${where}: 401 with content type ${response.headers.get('content-type')}`);
    }
  }
  return { operations: operations.length, requests, problems };
}

/** `schemathesis run` against the served document; resolves to its exit code and the numbers it printed. */
async function runSchemathesis(baseUrl, label) {
  const slug = label.replace(/\W+/g, '-');
  const reportDir = join(WORK_DIR, slug);
  await rm(reportDir, { recursive: true, force: true });
  await mkdir(reportDir, { recursive: true });
  const args = [
    '--config-file',
    await writeConfig(),
    'run',
    baseUrl + DOCUMENT_PATH,
    '--header',
    `Authorization: Bearer ${ADMIN_KEY}`,
    // The admin API only: the sample app's own routes are rate limited (429s) and not under test.
    '--include-path-regex',
    `^${ADMIN_PATH}(/|$)`,
    // The checks are chosen in the config file: on the command line they would override its
    // per-operation exceptions.
    // Valid and invalid data (wrong types, out-of-range values, missing and unexpected fields).
    '--mode',
    'all',
    // No `stateful`: the document declares no links between operations.
    '--phases',
    'examples,coverage,fuzzing',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    String(SEED),
    // One worker: with several, CPython before 3.11.8/3.12.1 can fail compiling schemathesis'
    // generators in threads ("SystemError: AST constructor recursion depth mismatch").
    '--workers',
    '1',
    '--request-timeout',
    '10',
    '--continue-on-failure',
    // NUL bytes in queries and bodies too: the API must refuse them, not fail.
    '--generation-allow-x00',
    'true',
    // The examples database (failures found before are replayed first) stays under .cache.
    '--generation-database',
    join(WORK_DIR, 'examples-db'),
    '--report',
    'junit',
    '--report-dir',
    reportDir,
    '--output-truncate',
    'false',
    // Sanitizing hides every value of a parameter named `key` (the client key, here), which makes
    // failures unreadable; the admin key is random per run and masked in what this script prints.
    '--output-sanitize',
    'false',
    ...(useColor ? [] : ['--no-color']),
  ];
  log(
    dim(
      `$ ${[SCHEMATHESIS, ...args]
        .map((arg) => (/[\s"'$^|()]/.test(arg) ? `'${arg}'` : arg))
        .join(' ')
        .replace(ADMIN_KEY, '<admin key>')}`,
    ),
  );
  const child = spawn(SCHEMATHESIS, args, { cwd: WORK_DIR, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  let output = '';
  child.stdout.on('data', (chunk) => {
    const text = chunk.toString();
    output += text;
    process.stdout.write(redact(text));
  });
  running.add(child);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
  }, RUN_TIMEOUT_MS);
  const code = await new Promise((resolve) => child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1))));
  clearTimeout(timer);
  running.delete(child);
  if (timedOut) {
    log(red(`schemathesis stopped after ${RUN_TIMEOUT_MS / 1000} s: lower SCHEMATHESIS_MAX_EXAMPLES`));
    return { code: 1, numbers: { result: `stopped after ${RUN_TIMEOUT_MS / 1000} s` } };
  }
  const junit = (await readdir(reportDir)).find((name) => name.startsWith('junit') && name.endsWith('.xml'));
  return { code, numbers: await summarize(output, junit ? join(reportDir, junit) : null) };
}

/** schemathesis.toml: CHECKS, and the per-operation exceptions above. */
async function writeConfig() {
  const lines = ['# Written by scripts/schemathesis.mjs on each run.', '', '[checks]', 'enabled = false'];
  for (const check of CHECKS) lines.push(`${check}.enabled = true`);
  lines.push('');
  for (const [method, path, why] of POSITIVE_DATA_EXCEPTIONS) {
    lines.push(
      `# ${why}`,
      '[[operations]]',
      `include-method = ${JSON.stringify(method)}`,
      `include-path = ${JSON.stringify(ADMIN_PATH + path)}`,
      'checks.positive_data_acceptance.enabled = false',
      '',
    );
  }
  const file = join(WORK_DIR, 'schemathesis.toml');
  await writeFile(file, lines.join('\n'));
  return file;
}

/** The numbers of a run: operations and test cases from schemathesis' output, tests and failures from its JUnit report. */
async function summarize(output, junitPath) {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const numbers = {
    selected: /API Operations:\s*Selected:\s*(\S+)/.exec(plain)?.[1],
    tested: /API Operations:[\s\S]*?Tested:\s*(\d+)/.exec(plain)?.[1],
    testCases: /Test cases:\s*([^\n]+)/.exec(plain)?.[1]?.trim(),
    result: /^=+ (.+?) =+\s*$/m.exec(plain.slice(plain.lastIndexOf('SUMMARY')))?.[1]?.trim(),
  };
  try {
    if (junitPath === null) throw new Error('no JUnit report');
    const xml = await readFile(junitPath, 'utf8');
    const suite = /<testsuite\b([^>]*)>/.exec(xml)?.[1] ?? '';
    const attribute = (name) => new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1];
    numbers.junit = { tests: attribute('tests'), failures: attribute('failures'), errors: attribute('errors'), skipped: attribute('skipped') };
  } catch {
    // no report: the run failed before testing
  }
  return numbers;
}

// ---------------------------------------------------------------------------------------------
// MongoDB

/** Drops the database a run used; best effort (the data is throwaway test data). */
async function dropDatabase(url, dbName) {
  try {
    const { default: mongoose } = await import('mongoose');
    const connection = await mongoose.createConnection(url, { dbName, serverSelectionTimeoutMS: 5_000 }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  } catch (error) {
    log(dim(`could not drop database ${dbName}: ${redact(error?.message ?? error)}`));
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  for (const file of [APP_MODULE, LIBRARY_ENTRY]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm run check:schemathesis builds)`);
  }
  await ensureSchemathesis();
  await mkdir(WORK_DIR, { recursive: true });

  const storages = [{ label: 'memory store', env: { MONGO_URL: '' } }];
  const mongoUrl = process.env.MONGO_URL?.trim();
  const mongoDb = `rampart_schemathesis_${process.pid}_${Date.now().toString(36)}`;
  if (mongoUrl) storages.push({ label: 'MongoDB store', env: { MONGO_URL: mongoUrl, MONGO_DB: mongoDb } });

  log(bold(`schemathesis ${SCHEMATHESIS_VERSION}, seed ${SEED}, at most ${MAX_EXAMPLES} test cases per operation and phase`));
  const results = [];
  const startedAt = Date.now();
  for (const storage of storages) {
    log();
    log(bold(`── admin API of the sample app, ${storage.label}`));
    const app = await startApp(storage.env);
    let result;
    try {
      log(`app at ${app.baseUrl}, document at ${app.baseUrl}${DOCUMENT_PATH}`);
      const auth = await checkUnauthenticated(app.baseUrl);
      for (const problem of auth.problems) log(red(`  unauthenticated: ${problem}`));
      log(
        `unauthenticated requests: ${auth.requests} to ${auth.operations} operations, ${auth.problems.length === 0 ? green('all refused with 401') : red(`${auth.problems.length} not refused properly`)}`,
      );
      const schemathesis = await runSchemathesis(app.baseUrl, storage.label);
      result = { label: storage.label, auth, schemathesis };
    } finally {
      await app.stop();
      if (storage.env.MONGO_DB) await dropDatabase(mongoUrl, storage.env.MONGO_DB);
    }
    const serverErrors = app
      .output()
      .split('\n')
      .filter((line) => /\bERROR\b/.test(line));
    if (serverErrors.length > 0) log(red(`the app logged errors:\n  ${serverErrors.slice(0, 20).join('\n  ')}`));
    results.push(result);
  }

  log();
  log(bold(`── summary (schemathesis ${SCHEMATHESIS_VERSION}, seed ${SEED}, ${((Date.now() - startedAt) / 1000).toFixed(0)} s)`));
  let failed = false;
  for (const { label, auth, schemathesis } of results) {
    const { numbers, code } = schemathesis;
    const ok = code === 0 && auth.problems.length === 0;
    failed ||= !ok;
    const junit =
      numbers.junit?.tests !== undefined
        ? `; JUnit: ${numbers.junit.tests} tests, ${numbers.junit.failures} failed, ${numbers.junit.errors} errors, ${numbers.junit.skipped} skipped`
        : '';
    log(
      `${ok ? green('PASS') : red('FAIL')} ${label}: unauthenticated ${auth.requests - auth.problems.length}/${auth.requests} refused; ` +
        `operations ${numbers.tested ?? '?'} tested (${numbers.selected ?? '?'} selected); test cases ${numbers.testCases ?? '?'}; ${numbers.result ?? `exit code ${code}`}${junit}`,
    );
  }
  if (failed) log(red(`replay with SCHEMATHESIS_SEED=${SEED}; reports in ${WORK_DIR}`));
  return failed ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of running) child.kill('SIGTERM');
    process.exit(130);
  });
}
main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${red('schemathesis check failed to run:')} ${redact(error?.stack ?? error)}\n`);
    process.exit(1);
  },
);
