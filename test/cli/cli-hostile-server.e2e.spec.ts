import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMonitor } from '../../lib/cli/monitor/monitor-view.js';
import { RAW_CONTROL, requireBuiltCli, runCli } from './cli.js';

requireBuiltCli();

const KEY = 'cli-hostile-key-0123456789abcdef';
const ESCAPE = '\u001b]0;PWNED\u0007\u001b[2J';

/** An admin API of the wrong kind: hostile times, a page cursor it repeats, a `null` problem. */
function hostileServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path.endsWith('/stats')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      return response.end(
        JSON.stringify({
          fleet: true,
          instances: [],
          from: ESCAPE,
          to: ESCAPE,
          windowMs: 60_000,
          requests: 1,
          admitted: 1,
          limited: 0,
          blocked: 0,
          banned: 0,
          unavailable: 0,
          blockRate: 0,
          violations: 0,
          violationsPerMinute: 0,
          blocksMade: 0,
          bansMade: 0,
          topRules: [],
          topKeys: [],
          recentViolations: [],
          shadow: { limited: 0, blocked: 0, banned: 0, violations: 0 },
        }),
      );
    }
    if (path.endsWith('/bans')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      return response.end(JSON.stringify({ items: [], nextCursor: 'again' }));
    }
    response.writeHead(503, { 'content-type': 'application/problem+json' });
    response.end('null');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/rate-limit` })),
  );
}

describe('rampart against a hostile admin API, and with a key a header cannot carry', () => {
  let server: Server;
  let env: Record<string, string>;
  beforeAll(async () => {
    const started = await hostileServer();
    server = started.server;
    env = { RAMPART_URL: started.url, RAMPART_ADMIN_KEY: KEY };
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('refuses a key with a line break (exit 2) without printing it', async () => {
    const run = await runCli(['bans', 'list'], { ...env, RAMPART_ADMIN_KEY: 'secret-admin-key-abc\nline2' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the admin key holds characters an HTTP header cannot carry');
    expect(run.stderr).not.toContain('secret-admin-key-abc');
  });

  it('escapes hostile times from the API', async () => {
    const run = await runCli(['stats'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain('\\u001b]0;PWNED');
  });

  it('stops a listing whose cursor repeats, with one line', async () => {
    const run = await runCli(['bans', 'list'], env);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('error: the admin API gave the same page cursor twice: stopped listing (the list shown may be incomplete).');
  });

  it('answers a problem body of null as the documented unavailable (69)', async () => {
    const run = await runCli(['config', 'show'], env);
    expect(run.code).toBe(69);
    expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('escapes a hostile time on the monitor screen', () => {
    const lines = renderMonitor(
      {
        url: env.RAMPART_URL!,
        intervalMs: 1_000,
        windowMs: 60_000,
        updatedAt: new Date(),
        bans: [],
        moreBans: false,
        stats: {
          fleet: true,
          instances: [],
          to: ESCAPE,
          requests: 1,
          admitted: 1,
          limited: 0,
          blocked: 0,
          banned: 0,
          blockRate: 0,
          violationsPerMinute: 0,
          blocksMade: 0,
          bansMade: 0,
          topRules: [],
          topKeys: [],
          recentViolations: [{ at: ESCAPE, key: 'k', rule: 'r', method: 'GET', route: '/', hits: 1 }],
        },
      } as never,
      { columns: 80, rows: 24 },
    );
    for (const line of lines) expect(line).not.toMatch(RAW_CONTROL);
  });

  it('test --config finds the rules of route entries too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-cli-routes-'));
    writeFileSync(
      join(dir, 'rampart.yaml'),
      'rules:\n  - { name: default, limit: 100, windowMs: 1m }\nroutes:\n  - path: ^/towns\n    rules:\n      - { name: towns, limit: 1, windowMs: 1s, algorithm: fixed-window }\n      - { groups: [admin], unlimited: true }\n',
    );
    const run = await runCli(['test', '--config', join(dir, 'rampart.yaml'), '--rule', 'towns', '--identifier', '203.0.113.1', '--requests', '2']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/#1 allowed/);
    expect(run.stdout).toMatch(/#2 denied/);
  });
});
