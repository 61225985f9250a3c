import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getStats, startStatsApp, traffic } from '../admin/admin-stats.app.js';
import { ADAPTERS } from '../support/http-app.js';
import { cliTarget, HOSTILE_KEY, RAW_CONTROL, requireBuiltCli, runCli, userFromQuery } from './cli.js';

requireBuiltCli();
// Each test runs the CLI, a Node process: on a busy machine that takes seconds.
jest.setTimeout(30_000);

describe.each(ADAPTERS)('rampart stats against a running app on %s', (adapter) => {
  const target = cliTarget(async () => {
    const t = await startStatsApp(adapter, { keyResolver: userFromQuery });
    // 2 admitted then 3 refused (limited, then blocked after the second violation) for each client.
    expect(await traffic(t, '/api', '203.0.113.7', 5)).toEqual([200, 200, 429, 429, 429]);
    expect(await traffic(t, `/api?user=${encodeURIComponent(HOSTILE_KEY)}`, '198.51.100.1', 5)).toEqual([200, 200, 429, 429, 429]);
    return t;
  });
  const { cli } = target;

  it('--json prints what GET stats answers', async () => {
    const [run, api] = await Promise.all([cli('stats', '--json'), getStats(target.t).expect(200)]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(api.body);
    expect(api.body).toMatchObject({ requests: 10, admitted: 4, topKeys: expect.arrayContaining([{ key: HOSTILE_KEY, refusals: 3 }]) });
    // The value is kept (JSON escapes), and no control or format character reaches the terminal raw.
    expect(run.stdout).not.toMatch(RAW_CONTROL);
  });

  it('prints the figures, the top rules and keys and the recent violations, the hostile key escaped', async () => {
    const run = await cli('stats', '--window', '15m');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^Statistics of the fleet \(1 instance\), \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ to \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\n/);
    expect(out).toContain('requests 10   admitted 4   limited 2   blocked 4   banned 0   unavailable 0\n');
    expect(out).toContain('block rate 60.0%   violations 4 (0.3/min)   blocks made 2   bans made 0\n');
    expect(out).toMatch(/\nTop rules\nRULE\s+REQUESTS\s+REFUSED\s+NEAR LIMIT\nper-minute\s+8\s+4\s+2\n/);
    expect(out).toMatch(/\nTop keys\nKEY\s+REFUSALS\n/);
    expect(out).toMatch(/^203\.0\.113\.7\s+3$/m);
    expect(out).toContain('\\u001b]0;pwned\\u0007\\u001b[2J\\u001b[31mevil\\u009b1m\\u202ekey');
    expect(out).toMatch(/\nRecent violations\nTIME\s+KEY\s+RULE\s+METHOD\s+ROUTE\s+HITS\/LIMIT\n/);
    expect(out).not.toMatch(RAW_CONTROL);
  });

  it('--export replaces the file with the JSON report, through a temporary file renamed, and says where', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-export-'));
    const path = join(dir, 'report.json');
    writeFileSync(path, 'an older report');
    const run = await runCli(['stats', '--window', '5m', '--export', 'report.json'], target.env, dir);
    expect(run).toEqual({ code: 0, stdout: `wrote the statistics of the last 5m to ${path}\n`, stderr: '' });
    const report = JSON.parse(readFileSync(path, 'utf8'));
    expect(report).toEqual((await getStats(target.t, { windowMs: 300_000 }).expect(200)).body);
    expect(readdirSync(dir)).toEqual(['report.json']);
  });

  it('--export into a folder that does not exist: exit 1, one line', async () => {
    const run = await cli('stats', '--export', join(tmpdir(), 'rampart-no-such-folder', 'report.json'));
    expect(run).toEqual({ code: 1, stdout: '', stderr: `error: cannot write ${join(tmpdir(), 'rampart-no-such-folder', 'report.json')}: ENOENT\n` });
  });

  it('a window longer than the retention: exit 1 with the validation error', async () => {
    const run = await cli('stats', '--window', '1h');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: invalid request: windowMs .*900000.*\n$/);
  });
});
