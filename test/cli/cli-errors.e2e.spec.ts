import { Controller, Get } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { ADMIN_KEY, startAdminApp, type AdminTestApp } from '../admin/admin.app.js';
import { ADAPTERS } from '../support/http-app.js';
import { closedPort, listen, requireBuiltCli, runCli, type CliRun } from './cli.js';

requireBuiltCli();
// Each test runs the CLI, a Node process: on a busy machine that takes seconds.
jest.setTimeout(30_000);

/** Routes of the app itself, where a wrong --url may land: text, and JSON that is not the admin API's. */
@Controller('other')
class OtherController {
  @Get('stats') stats() {
    return 'just text';
  }
  @Get('bans') bans() {
    return { bans: [] };
  }
}

/** One line on stderr, no stack trace, nothing on stdout. */
function expectOneLineError(run: CliRun, code: number, line: RegExp): void {
  expect(run.code).toBe(code);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^[^\n]+\n$/);
  expect(run.stderr.trimEnd()).toMatch(line);
}

describe.each(ADAPTERS)('rampart errors against a running app on %s', (adapter) => {
  let t: AdminTestApp;
  let url: string;
  beforeAll(async () => {
    t = await startAdminApp(adapter, { controllers: [OtherController] });
    url = await listen(t);
  });
  afterAll(() => t.close());

  it('a wrong key: exit 77, the key refused (401), the key never printed', async () => {
    const run = await runCli(['bans', 'list'], { RAMPART_URL: url, RAMPART_ADMIN_KEY: 'wrong-key-0123456789abcdef' });
    expectOneLineError(run, 77, /^error: the admin API refused the key \(401\): check --key or RAMPART_ADMIN_KEY$/);
    const flag = await runCli(['--url', url, '--key', 'another-wrong-key-0123456789', 'stats']);
    expectOneLineError(flag, 77, /refused the key \(401\)/);
  });

  it('the app root instead of the admin API: exit 1, says --url is not the admin API', async () => {
    const root = url.replace(/\/rate-limit$/, '');
    const run = await runCli(['stats'], { RAMPART_URL: root, RAMPART_ADMIN_KEY: ADMIN_KEY });
    expectOneLineError(run, 1, new RegExp(`^error: ${root}/stats answered 404 Not Found, so --url is not the Rampart admin API: give the admin API's root`));
  });

  it('routes of the app that answer text, or JSON of another shape: exit 1, not the admin API', async () => {
    const other = url.replace(/rate-limit$/, 'other');
    const env = { RAMPART_URL: other, RAMPART_ADMIN_KEY: ADMIN_KEY };
    expectOneLineError(
      await runCli(['stats'], env),
      1,
      new RegExp(`^error: ${other}/stats answered text/(html|plain), not JSON, so --url is not the Rampart admin API`),
    );
    expectOneLineError(
      await runCli(['bans', 'list'], env),
      1,
      new RegExp(`^error: ${other}/bans answered JSON of another shape, so --url is not the Rampart admin API`),
    );
  });

  it('monitor without a terminal: exit 2, points to stats --json', async () => {
    const run = await runCli(['monitor'], { RAMPART_URL: url, RAMPART_ADMIN_KEY: ADMIN_KEY });
    expectOneLineError(run, 2, /^error: monitor draws a live view and needs a terminal; for scripts use `rampart stats --json`\.$/);
  });

  it('no key: exit 2, says how to give one', async () => {
    expectOneLineError(await runCli(['bans', 'list'], { RAMPART_URL: url }), 2, /^error: no admin API key: set RAMPART_ADMIN_KEY \(or pass --key\)\.$/);
  });
});

describe('rampart errors without an app', () => {
  const env = { RAMPART_ADMIN_KEY: ADMIN_KEY };

  it('connection refused: exit 69, one line naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/rate-limit`;
    expectOneLineError(await runCli(['stats'], { ...env, RAMPART_URL: url }), 69, new RegExp(`^error: cannot reach ${url}: connection refused$`));
  });

  it('an app that does not answer within --timeout: exit 69', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/rate-limit`;
    try {
      const run = await runCli(['--timeout', '300ms', 'bans', 'list'], { ...env, RAMPART_URL: url });
      expectOneLineError(run, 69, new RegExp(`^error: no answer from ${url} within 300 ms \\(raise --timeout if the app is slow\\)$`));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('no URL, or a URL that is not http(s) or carries credentials: exit 2', async () => {
    expectOneLineError(await runCli(['stats'], env), 2, /^error: no admin API URL: pass --url or set RAMPART_URL/);
    for (const bad of ['not a url', 'ftp://127.0.0.1/rate-limit', 'http://user:secret@127.0.0.1/rate-limit', 'http://127.0.0.1/rate-limit?key=x']) {
      const run = await runCli(['stats'], { ...env, RAMPART_URL: bad });
      expectOneLineError(run, 2, /^error: --url must be an http\(s\) URL of the admin API's root/);
      expect(run.stderr).not.toContain(ADMIN_KEY);
    }
  });

  it.each([
    [['bans', 'list', '--bogus'], /^error: unknown option '--bogus'$/],
    [['bans', 'add'], /^error: missing required argument 'target'$/],
    [['bans', 'add', '203.0.113.7', '--duration', '5x'], /^error: option '--duration <duration>' argument '5x' is invalid\. Give a duration such as 30s/],
    [['lists', 'add', 'maybe', '203.0.113.7'], /^error: command-argument value 'maybe' is invalid for argument 'list'\. Allowed choices are allow, deny\.$/],
    [['stats', '--window', '-1'], /^error: option '--window <duration>' argument '-1' is invalid/],
    [['bogus'], /^error: unknown command 'bogus'$/],
    [
      ['test', '--identifier', 'u', '--requests', '0', '--limit', '1', '--window-ms', '1000'],
      /^error: option '--requests <n>' argument '0' is invalid\. Give a whole number from 1 to 100000\.$/,
    ],
  ])('bad usage %j: exit 2, one line', async (args, line) => {
    expectOneLineError(await runCli(args, { ...env, RAMPART_URL: 'http://127.0.0.1:9/rate-limit' }), 2, line);
  });

  it('no command: the help on stderr, exit 2; --help, help and --version: on stdout, exit 0', async () => {
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: rampart [options] [command]');
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /Exit codes:\n {2}0 {3}success\n {2}1 {3}the operation failed.*\n {2}2 {3}usage error.*\n {2}69 {2}the app could not be reached.*\n {2}77 {2}the admin API refused the key/,
    );
    expect(help.stdout).toContain('RAMPART_URL');
    expect(help.stdout).toContain('RAMPART_ADMIN_KEY');
    const [command, bans, version] = await Promise.all([runCli(['help', 'bans']), runCli(['bans']), runCli(['--version'])]);
    expect(command).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: rampart bans [options] [command]') });
    expect(bans).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: rampart bans [options] [command]') });
    expect(version).toEqual({
      code: 0,
      stdout: `${(JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version}\n`,
      stderr: '',
    });
  });
});
