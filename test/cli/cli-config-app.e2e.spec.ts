import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BEARER, startAdminApp } from '../admin/admin.app.js';
import { ADAPTERS } from '../support/http-app.js';
import { cliTarget, requireBuiltCli } from './cli.js';

requireBuiltCli();
// Each test runs the CLI a few times, a Node process each: on a busy machine that takes seconds.
jest.setTimeout(30_000);

const fileWith = (limit: number) => `version: 1
rules:
  - { name: default, limit: ${limit}, windowMs: 1m, algorithm: fixed-window }
excludePaths: [/health]
escalation: { blockAfterViolations: 5, blockDurationMs: 10m }
`;

describe.each(ADAPTERS)('rampart config show and reload against an app on %s', (adapter) => {
  const path = join(mkdtempSync(join(tmpdir(), 'rampart-config-app-')), 'rampart.yaml');
  const target = cliTarget(() => {
    writeFileSync(path, fileWith(2));
    return startAdminApp(adapter, { options: { configFile: { path, watch: false, reloadSignal: false } } });
  });
  const { cli } = target;
  const policy = async (ip: string) => (await target.t.http().get('/ping').set('X-Forwarded-For', ip).expect(200)).headers['ratelimit-policy'];

  it('config show: the file, its version and hash, and what is enforced; --json is what GET config answers', async () => {
    const [run, json, api] = await Promise.all([
      cli('config', 'show'),
      cli('config', 'show', '--json'),
      target.t.http().get('/rate-limit/config').set('Authorization', BEARER).expect(200),
    ]);
    expect(JSON.parse(json.stdout)).toEqual(api.body);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Configuration in force: version 1, loaded \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(lines[1]).toBe(
      `file: ${path} (sha256 ${api.body.hash.slice(0, 12)}); a reload applies rules, routes, excludePaths, groups, escalation, global.enabled`,
    );
    expect(lines).toContain('enabled: yes');
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^NAME\s+LIMIT\s+WINDOW\s+ALGORITHM\s+BURST\s+BLOCK\s+SCOPE\s+GROUPS\s+SHADOW$/)]));
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^default\s+2\s+1m\s+fixed-window\s+-\s+-\s+-\s+-\s+-$/)]));
    expect(lines).toContain('excluded paths: /health');
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^escalation: blockAfterViolations 5, blockDurationMs 10m, /)]));
  });

  it('config reload: a changed file is in force at once (seen by a client); the same file again is unchanged; an invalid one changes nothing', async () => {
    expect(await policy('203.0.113.1')).toBe('"default";q=2;w=60');
    writeFileSync(path, fileWith(5));
    const reloaded = await cli('config', 'reload');
    expect(reloaded).toEqual({ code: 0, stdout: expect.stringMatching(/^reloaded: version 2 \(sha256 [0-9a-f]{12}\) in force\n$/), stderr: '' });
    expect(await policy('203.0.113.2')).toBe('"default";q=5;w=60');
    expect((await cli('config', 'reload')).stdout).toMatch(/^unchanged: version 2 /);

    writeFileSync(path, fileWith(-1));
    const refused = await cli('config', 'reload');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^error: The configuration file has 1 problem \(listed in errors\): nothing was changed, version 2 stays in force\. \S*rampart\.yaml:3:\d+: rules\[0\]\.limit must be a positive integer, got -1\.\n$/,
    );
    expect(await policy('203.0.113.3')).toBe('"default";q=5;w=60');
  });
});

describe.each(ADAPTERS)('rampart config show and reload against an app without a configuration file on %s', (adapter) => {
  const { cli } = cliTarget(() => startAdminApp(adapter));

  it("config show says there is no file; config reload: exit 1 with the admin API's reason", async () => {
    const [shown, reload] = await Promise.all([cli('config', 'show'), cli('config', 'reload')]);
    expect(shown.stdout.split('\n')[1]).toBe("file: none (the app's code options and environment)");
    expect(reload).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: This app has no configuration file to reload: give RateLimitModule the configFile option (or RAMPART_CONFIG) to configure it from a file.\n`,
    });
  });
});
