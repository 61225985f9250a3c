#!/usr/bin/env node
/**
 * Walks through the sample app's rate limits against a real server:
 *
 *   1. GET /            the module's default rule counting down
 *   2. GET /health      @SkipThrottle(): never limited, no rate-limit headers
 *   3. POST /auth/login 5 attempts per window, then 429 with Retry-After
 *   4. recovery         wait as long as Retry-After says, then the attempt is admitted again
 *
 * The login window is shortened to a few seconds (RATE_LIMIT_LOGIN_WINDOW_MS) so the recovery
 * takes seconds rather than a minute. Exits 0 when every step behaves as expected, 1 otherwise.
 *
 * Usage: npm run demo   (builds first; or `node scripts/demo.mjs` after `npm run build`)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const APP_ENTRY = join(ROOT, 'sample-app', 'dist', 'main.js');
const LIBRARY_ENTRY = join(ROOT, 'dist', 'index.js');

const DEFAULT_LIMIT = 10;
const DEFAULT_WINDOW_MS = 60_000;
const LOGIN_LIMIT = 5;
const LOGIN_WINDOW_MS = 3_000;
const LOGIN_ATTEMPTS = LOGIN_LIMIT + 2;
const HEALTH_REQUESTS = DEFAULT_LIMIT + 2;
const STARTUP_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 5_000;
const OVERALL_TIMEOUT_MS = 30_000;

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
  { title: 'request', width: 19 },
  { title: 'status', width: 6 },
  { title: 'RateLimit', width: 38 },
  { title: 'Retry-After', width: 11 },
];

/** Pads by visible width, so coloured cells stay aligned. */
function cell(text, { width, align }) {
  const pad = ' '.repeat(Math.max(0, width - String(text).replace(/\x1b\[[0-9;]*m/g, '').length));
  return align === 'right' ? pad + text : text + pad;
}

function row(cells) {
  console.log('  ' + cells.map((text, i) => cell(text, COLUMNS[i])).join('  ').trimEnd());
}

function heading(number, title) {
  console.log(`\n${bold(cyan(`${number}.`))} ${bold(title)}`);
  row(COLUMNS.map((c) => dim(c.title)));
}

function note(text) {
  console.log(`  ${' '.repeat(COLUMNS[0].width)}  ${dim(text)}`);
}

const seconds = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

// ---------------------------------------------------------------------------------------------
// Checks

class DemoFailure extends Error {}

function expect(condition, message) {
  if (!condition) throw new DemoFailure(message);
}

// ---------------------------------------------------------------------------------------------
// The sample app as a child process

function startApp() {
  const child = spawn(process.execPath, [APP_ENTRY], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      RATE_LIMIT_DEFAULT: String(DEFAULT_LIMIT),
      RATE_LIMIT_WINDOW_MS: String(DEFAULT_WINDOW_MS),
      RATE_LIMIT_LOGIN: String(LOGIN_LIMIT),
      RATE_LIMIT_LOGIN_WINDOW_MS: String(LOGIN_WINDOW_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (output += chunk));

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new DemoFailure(`the sample app did not report "listening on" within ${seconds(STARTUP_TIMEOUT_MS)}\n${output}`)),
      STARTUP_TIMEOUT_MS,
    );
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ baseUrl: match[1].replace(/\/$/, ''), line: output.trim().split('\n').find((l) => l.includes('listening on')) });
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

  async function stop() {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timeout = sleep(5_000).then(() => 'timeout');
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  }

  return { child, ready, exited, stop };
}

// ---------------------------------------------------------------------------------------------
// Traffic

async function main() {
  if (!existsSync(LIBRARY_ENTRY) || !existsSync(APP_ENTRY)) {
    console.error(
      `${red('demo:')} the build output is missing (${!existsSync(LIBRARY_ENTRY) ? 'dist/index.js' : 'sample-app/dist/main.js'}).\n` +
        `Run ${bold('npm run build')} first, or use ${bold('npm run demo')}, which builds.`,
    );
    return 1;
  }

  const startedAt = Date.now();
  console.log(bold('nest-rampart demo') + dim(`: the sample app on a free port, login window shortened to ${LOGIN_WINDOW_MS / 1000} s`));
  const app = startApp();
  const watchdog = setTimeout(() => {
    console.error(red(`\ndemo: gave up after ${seconds(OVERALL_TIMEOUT_MS)}`));
    app.stop().finally(() => process.exit(1));
  }, OVERALL_TIMEOUT_MS);

  try {
    const { baseUrl, line } = await app.ready;
    console.log(dim(`app: ${line}; ready in ${seconds(Date.now() - startedAt)}`));
    const t0 = Date.now();

    /** Sends one request and prints its row; the policy and the 429 detail get a line of their own. */
    async function send(method, path, { showPolicy = false } = {}) {
      const sentAt = Date.now();
      let res;
      try {
        res = await fetch(baseUrl + path, { method, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch (error) {
        throw new DemoFailure(`${method} ${path} failed: ${error.cause?.message ?? error.message}`);
      }
      const body = await res.text();
      const headers = {
        rateLimit: res.headers.get('ratelimit'),
        policy: res.headers.get('ratelimit-policy'),
        retryAfter: res.headers.get('retry-after'),
      };
      const status = res.status === 429 ? red(res.status) : res.ok ? green(res.status) : yellow(res.status);
      row([
        `+${((sentAt - t0) / 1000).toFixed(2)}s`,
        `${method.padEnd(4)} ${path}`,
        status,
        headers.rateLimit ?? dim('-'),
        headers.retryAfter ? yellow(`${headers.retryAfter} s`) : dim('-'),
      ]);
      if (showPolicy && headers.policy) note(`RateLimit-Policy: ${headers.policy}`);
      let json;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers, json };
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
      const { status, headers } = await send('GET', '/health');
      expect(status === 200, `GET /health answered ${status}: a skipped route must never be limited`);
      expect(headers.rateLimit === null, `GET /health sent RateLimit: ${headers.rateLimit}; a skipped route sends no rate-limit headers`);
    }

    // 3. The login rule. Fixed windows are aligned to the clock (they start at multiples of the
    // window): if the current one is nearly over, wait for the next so all attempts land in one.
    const leftInWindow = LOGIN_WINDOW_MS - (Date.now() % LOGIN_WINDOW_MS);
    heading(3, `POST /auth/login ${dim(`@Throttle login rule: ${LOGIN_LIMIT} per ${LOGIN_WINDOW_MS / 1000} s fixed window, ${LOGIN_ATTEMPTS} attempts`)}`);
    if (leftInWindow < LOGIN_WINDOW_MS / 2) {
      note(`(the current ${LOGIN_WINDOW_MS / 1000} s window ends in ${seconds(leftInWindow)}: starting in the next one)`);
      await sleep(leftInWindow + 20);
    }
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

    console.log(
      `\n${green('✔')} ${bold('demo passed')}: /health never limited; login ${expected.join(' ')} ` +
        `with Retry-After ${retryAfter} s; admitted again after waiting it. ${dim(`Total ${seconds(Date.now() - startedAt)}.`)}`,
    );
    return 0;
  } catch (error) {
    const message = error instanceof DemoFailure ? error.message : error?.stack ?? String(error);
    console.error(`\n${red('✘ demo failed:')} ${message}`);
    return 1;
  } finally {
    clearTimeout(watchdog);
    await app.stop();
  }
}

process.exitCode = await main();
