import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RAW_CONTROL, requireBuiltCli, runCli } from './cli.js';

requireBuiltCli();

const GOOD = `version: 1
global:
  legacyHeaders: true
rules:
  - name: per-minute
    limit: 100
    windowMs: 1m
  - name: login
    limit: 3
    windowMs: 1m
    algorithm: fixed-window
    groups: [partner]
    escalation:
      blockAfterViolations: 1
`;

const BAD = `version: 1
rules:
  - name: login
    limit: -5
    windowMs: soon
global:
  colour: blue
"\\e]0;pwned\\a": 1
`;

describe('rampart config validate and test --config: configuration files, offline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-config-'));
  writeFileSync(join(dir, 'good.yaml'), GOOD);
  writeFileSync(join(dir, 'bad.yaml'), BAD);
  const cli = (...args: string[]) => runCli(args, {}, dir);

  it('config validate: a valid file is valid, exit 0', async () => {
    expect(await cli('config', 'validate', 'good.yaml')).toEqual({ code: 0, stdout: 'good.yaml: valid\n', stderr: '' });
    const json = await cli('config', 'validate', 'good.yaml', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ file: 'good.yaml', valid: true, problems: [] });
  });

  it('config validate: every problem of an invalid file, one per line with its line, column and key, exit 1; hostile text escaped', async () => {
    const run = await cli('config', 'validate', 'bad.yaml');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      'bad.yaml:4:12: rules[0].limit must be a positive integer, got -5.',
      'bad.yaml:5:15: rules[0].windowMs must be a positive integer, got "soon".',
      expect.stringMatching(/^bad\.yaml:7:11: global\.colour is not a setting a file can make; /),
      expect.stringMatching(/^bad\.yaml:8:\d+: '\\u001b\]0;pwned\\u0007' is not a section of the configuration; /),
    ]);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    const json = await cli('config', 'validate', 'bad.yaml', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      file: 'bad.yaml',
      valid: false,
      problems: expect.arrayContaining(['bad.yaml:4:12: rules[0].limit must be a positive integer, got -5.']),
    });
  });

  it('config validate: a file that cannot be read, exit 1; no file given, exit 2', async () => {
    expect(await cli('config', 'validate', 'missing.yaml')).toEqual({ code: 1, stdout: 'missing.yaml: cannot be read (ENOENT).\n', stderr: '' });
    expect(await cli('config', 'validate')).toEqual({ code: 2, stdout: '', stderr: "error: missing required argument 'file'\n" });
  });

  it("test --config: the file's rule (its groups and escalation aside) with the file's headers", async () => {
    const run = await cli('test', '--config', 'good.yaml', '--rule', 'login', '--identifier', 'user-42', '--requests', '4');
    expect(run).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        '#1 allowed  RateLimit-Policy: "login";q=3;w=60  RateLimit: "login";r=2;t=60  X-RateLimit-Limit: 3  X-RateLimit-Remaining: 2  X-RateLimit-Reset: 60',
        '#2 allowed  RateLimit-Policy: "login";q=3;w=60  RateLimit: "login";r=1;t=60  X-RateLimit-Limit: 3  X-RateLimit-Remaining: 1  X-RateLimit-Reset: 60',
        '#3 allowed  RateLimit-Policy: "login";q=3;w=60  RateLimit: "login";r=0;t=60  X-RateLimit-Limit: 3  X-RateLimit-Remaining: 0  X-RateLimit-Reset: 60',
        '#4 denied   RateLimit-Policy: "login";q=3;w=60  RateLimit: "login";r=0;t=60  X-RateLimit-Limit: 3  X-RateLimit-Remaining: 0  X-RateLimit-Reset: 60  Retry-After: 60',
        '3 allowed, 1 denied of 4 requests from user-42, all at once (rule "login": fixed-window, 3 per 1m)',
        '',
      ].join('\n'),
    });
  });

  it('test --config: an unknown rule, an invalid file, or inline flags besides: one line each', async () => {
    expect(await cli('test', '--config', 'good.yaml', '--rule', 'signup', '--identifier', 'u', '--requests', '1')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: no rule named "signup"; the rules are "per-minute", "login"\n',
    });
    const invalid = await cli('test', '--config', 'bad.yaml', '--rule', 'login', '--identifier', 'u', '--requests', '1');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(
      /^error: bad\.yaml is not a valid configuration file \(4 problems\): bad\.yaml:4:12: rules\[0\]\.limit must be a positive integer, got -5\. [^\n]*\n$/,
    );
    expect(invalid.stderr).not.toMatch(RAW_CONTROL);
    expect(await cli('test', '--config', 'good.yaml', '--limit', '3', '--identifier', 'u', '--requests', '1')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: --limit describes a rule inline: give it or --config, not both.\n',
    });
  });
});
