import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, requireBuiltCli, runCli } from './cli.js';

requireBuiltCli();

describe('rampart test: a rule simulated offline with the real algorithms', () => {
  it('prints each request, allowed or denied, with the headers a client would see, then the counts', async () => {
    const run = await runCli([
      'test',
      '--rule',
      'login',
      '--identifier',
      'user-42',
      '--requests',
      '5',
      '--limit',
      '3',
      '--window-ms',
      '60000',
      '--algorithm',
      'fixed-window',
    ]);
    expect(run).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        '#1 allowed  RateLimit-Policy: "login";q=3;w=60  RateLimit: "login";r=2;t=60',
        '#2 allowed  RateLimit-Policy: "login";q=3;w=60  RateLimit: "login";r=1;t=60',
        '#3 allowed  RateLimit-Policy: "login";q=3;w=60  RateLimit: "login";r=0;t=60',
        '#4 denied   RateLimit-Policy: "login";q=3;w=60  RateLimit: "login";r=0;t=60  Retry-After: 60',
        '#5 denied   RateLimit-Policy: "login";q=3;w=60  RateLimit: "login";r=0;t=60  Retry-After: 60',
        '3 allowed, 2 denied of 5 requests from user-42, all at once (rule "login": fixed-window, 3 per 1m)',
        '',
      ].join('\n'),
    });
  });

  it('advances the clock by --interval-ms: a token bucket refills between requests', async () => {
    // 2 tokens, one more every 30 s: requests every 10 s drain it, then one in three passes.
    const run = await runCli([
      'test',
      '--identifier',
      '203.0.113.7',
      '--requests',
      '8',
      '--interval-ms',
      '10000',
      '--limit',
      '2',
      '--window-ms',
      '60000',
      '--algorithm',
      'token-bucket',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.results.map((r: { allowed: boolean }) => (r.allowed ? 'A' : 'D')).join('')).toBe('AADADDAD');
    expect(report.results.map((r: { atMs: number }) => r.atMs)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000]);
    expect(report.results[2]).toEqual({
      request: 3,
      atMs: 20_000,
      allowed: false,
      outcome: 'limited',
      shadowLimited: false,
      headers: { 'RateLimit-Policy': '"default";q=2;w=60', RateLimit: '"default";r=0;t=40', 'Retry-After': '10' },
    });
    expect(report.summary).toEqual({ allowed: 4, denied: 4, requests: 8 });
    expect(report.rule).toEqual({ name: 'default', limit: 2, windowMs: 60_000, algorithm: 'token-bucket' });
  });

  it('with --interval-ms the lines carry the time of each request', async () => {
    const run = await runCli([
      'test',
      '--identifier',
      'u',
      '--requests',
      '3',
      '--interval-ms',
      '30000',
      '--limit',
      '1',
      '--window-ms',
      '60000',
      '--algorithm',
      'fixed-window',
    ]);
    expect(run.stdout.split('\n').map((line) => line.slice(0, 17))).toEqual([
      '#1 +0ms allowed  ',
      '#2 +30s denied   ',
      '#3 +1m  allowed  ',
      expect.any(String),
      '',
    ]);
    expect(run.stdout).toContain('2 allowed, 1 denied of 3 requests from u, one every 30s (rule "default": fixed-window, 1 per 1m)');
  });

  it('without a rule: exit 2, says how to describe one; an invalid rule: exit 2 with its problem', async () => {
    expect(await runCli(['test', '--identifier', 'u', '--requests', '3'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: Describe the rule with --config FILE, or with --limit N and --window-ms MS (and --algorithm, --burst).\n',
    });
    const invalid = await runCli([
      'test',
      '--identifier',
      'u',
      '--requests',
      '3',
      '--limit',
      '2',
      '--window-ms',
      '1000',
      '--burst',
      '5',
      '--rule',
      'no spaces',
    ]);
    expect(invalid).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: invalid rule: rules[0].name must be 1-64 letters, digits, '_', '-' or '.', got "no spaces".\n`,
    });
    const algorithm = await runCli(['test', '--identifier', 'u', '--requests', '3', '--limit', '2', '--window-ms', '1000', '--algorithm', 'leaky']);
    expect(algorithm.code).toBe(2);
    expect(algorithm.stderr).toMatch(
      /^error: option '--algorithm <name>' argument 'leaky' is invalid\. Allowed choices are sliding-window, fixed-window, sliding-log, token-bucket, gcra\.\n$/,
    );
  });

  it('a reader that stops early (| head -1) ends it quietly: exit 0, nothing on stderr', async () => {
    const script = `set -o pipefail; "${process.execPath}" "${CLI}" test --identifier u --requests 20000 --limit 5 --window-ms 1000 | head -1`;
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', script]);
    expect(stdout).toMatch(/^#1 +allowed {2}RateLimit-Policy: "default";q=5;w=1 {2}RateLimit: "default";r=4;t=\d+\n$/);
    expect(stderr).toBe('');
  });
});
