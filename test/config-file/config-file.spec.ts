import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, RateLimitConfigurationError } from '../../lib/index.js';
import { withEnvOverrides } from '../../lib/config-file/env-overrides.js';
import { compilePathPattern, matchedPath } from '../../lib/routes/path-pattern.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-config-'));
let n = 0;
/** Writes `text` to a new file of the test folder and returns its path. */
function file(text: string, extension = 'yaml'): string {
  const path = join(dir, `rampart-${++n}.${extension}`);
  writeFileSync(path, text);
  return path;
}

/** The problems `loadConfigFile` lists for `path`, without the folder. */
async function problems(path: string, env: Record<string, string> = {}): Promise<string[]> {
  try {
    await loadConfigFile(path, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitConfigurationError);
    return (error as RateLimitConfigurationError).problems.map((p) => p.replace(`${dir}/`, ''));
  }
  throw new Error(`${path} loaded without a problem`);
}

describe('loadConfigFile', () => {
  it('reads a complete file: durations with units, named rules, routes, groups, excluded paths, escalation', async () => {
    const path = file(`
version: 1
global:
  standardHeaders: true
  storeTimeoutMs: 250ms
rules:
  - { name: default, limit: 100, windowMs: 1m }
  - { name: login, limit: 5, windowMs: 15m, algorithm: fixed-window, blockDurationMs: 1h }
routes:
  - path: ^/towns
    rules:
      - { name: towns, limit: 1, windowMs: 1s, methods: [get] }
      - { groups: [admin], unlimited: true }
groups:
  admin: { unlimited: true }
excludePaths: [/health, /metrics]
escalation: { blockAfterViolations: 5, blockDurationMs: 10m }
`);
    const loaded = await loadConfigFile(path);
    expect(loaded.path).toBe(path);
    expect(loaded.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.options).toEqual({
      standardHeaders: true,
      storeTimeoutMs: 250,
      rules: [
        { name: 'default', limit: 100, windowMs: 60_000 },
        { name: 'login', limit: 5, windowMs: 900_000, algorithm: 'fixed-window', blockDurationMs: 3_600_000 },
      ],
      routes: [
        {
          path: '^/towns',
          rules: [
            { name: 'towns', limit: 1, windowMs: 1_000, methods: ['get'] },
            { groups: ['admin'], unlimited: true },
          ],
        },
      ],
      groups: { admin: { unlimited: true } },
      excludePaths: ['/health', '/metrics'],
      escalation: { blockAfterViolations: 5, blockDurationMs: 600_000 },
    });
  });

  it('reads JSON, with lines in its problems too', async () => {
    expect((await loadConfigFile(file('{ "rules": [{ "name": "api", "limit": 10, "windowMs": 1000 }] }', 'json'))).options).toEqual({
      rules: [{ name: 'api', limit: 10, windowMs: 1000 }],
    });
    expect(await problems(file('{\n  "rules": [\n    { "name": "api", "limit": 0, "windowMs": 1000 }\n  ]\n}', 'json'))).toEqual([
      'rampart-3.json:3:31: rules[0].limit must be a positive integer, got 0.',
    ]);
  });

  it('names the file, the line, the column and the key of every problem, in the order of the file', async () => {
    const path = file(`global:
  storeTimeoutMs: 0
  frobnicate: true
rules:
  - { name: api, limit: -5, windowMs: 1m }
  - { name: login, windowMs: 15m, algorithm: leaky }
rulez: []
groups:
  admin: { unlimited: maybe }
`);
    const found = await problems(path);
    expect(found).toEqual([
      `rampart-${n}.yaml:2:19: global.storeTimeoutMs must be a positive integer, got 0.`,
      expect.stringMatching(new RegExp(`^rampart-${n}\\.yaml:3:15: global\\.frobnicate is not a setting a file can make; the settings are enabled, shadow,`)),
      `rampart-${n}.yaml:5:25: rules[0].limit must be a positive integer, got -5.`,
      `rampart-${n}.yaml:6:5: rules[1].limit must be a positive integer, got undefined.`,
      `rampart-${n}.yaml:6:46: rules[1].algorithm must be one of 'sliding-window', 'fixed-window', 'sliding-log', 'token-bucket', 'gcra', got "leaky".`,
      `rampart-${n}.yaml:7:8: 'rulez' is not a section of the configuration; the sections are version, global, storage, rules, routes, groups, excludePaths, escalation, websockets, ddos.`,
      `rampart-${n}.yaml:9:23: groups.admin.unlimited must be true or false, got "maybe".`,
    ]);
  });

  it('refuses malformed YAML with the line of each syntax error', async () => {
    const found = await problems(file('rules:\n  - name: api\n    limit: 5\n  - { name: x, limit: [\nroutes: oops: here\n'));
    expect(found.length).toBeGreaterThan(0);
    for (const problem of found) expect(problem).toMatch(/^rampart-\d+\.yaml:\d+:\d+: \S/);
    expect(await problems(file('a: 1\na: 2\n'))).toEqual([`rampart-${n}.yaml:2:1: Map keys must be unique`]);
    expect(await problems(file('- just\n- a list\n'))).toEqual([
      `rampart-${n}.yaml:1:1: the file must hold a mapping of sections (rules:, routes:...), got an array.`,
    ]);
  });

  it('refuses an alias bomb, a cycle, deep nesting, tags of other types, and a file over 256 KB, without expanding them', async () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    expect(await problems(file(bomb))).toEqual([`rampart-${n}.yaml: Excessive alias count indicates a resource exhaustion attack`]);
    expect(await problems(file('rules: !!js/function "return 1"\n'))).toEqual([`rampart-${n}.yaml:1:8: Unresolved tag: tag:yaml.org,2002:js/function`]);
    expect(await problems(file(`# ${'x'.repeat(300_000)}\n`))).toEqual([
      `rampart-${n}.yaml: 300003 bytes, more than the 262144 a configuration file may have.`,
    ]);
    // An alias inside what it names, and collections nested deep enough to make parsing slow.
    expect(await problems(file('rules: &a [*a]\n'))).toEqual([
      `rampart-${n}.yaml: an alias refers back to a value that holds it (a cycle), which no setting can be.`,
    ]);
    expect(await problems(file(`rules: ${'['.repeat(100_000)}\n`))).toEqual([`rampart-${n}.yaml:1:72: collections nested deeper than 64 levels`]);
    expect(await problems(join(dir, 'missing.yaml'))).toEqual(['missing.yaml: cannot be read (ENOENT).']);
  });

  it('refuses path patterns that could backtrack catastrophically, and invalid ones, at their line', async () => {
    const found = await problems(
      file(`routes:
  - { path: "(a+)+$", rules: [] }
  - { path: "^/(x|xy)*z", rules: [] }
  - { path: "^/[", rules: [] }
  - { path: "^/towns/.*-.*-.*\\\\.json$", rules: [] }
  - { path: "^/ok/\\\\d+/x/.*", rules: [] }
`),
    );
    expect(found).toEqual([
      expect.stringMatching(/^rampart-\d+\.yaml:2:13: routes\[0\]\.path "\(a\+\)\+\$" could backtrack catastrophically/),
      expect.stringMatching(/^rampart-\d+\.yaml:3:13: routes\[1\]\.path "\^\/\(x\|xy\)\*z" could backtrack catastrophically/),
      expect.stringMatching(/^rampart-\d+\.yaml:4:13: routes\[2\]\.path "\^\/\[" is not a valid regular expression/),
      expect.stringMatching(/^rampart-\d+\.yaml:5:13: routes\[3\]\.path .* could backtrack too long on a crafted path \(more than two unbounded quantifiers/),
    ]);
  });

  it('checks route entries: rules, methods, unlimited groups, names', async () => {
    const found = await problems(
      file(`routes:
  - path: ^/a
    methods: [GET, "P O S T"]
    rules:
      - { name: a, limit: 1, windowMs: 1s }
      - { name: a, limit: 2, windowMs: 1s }
      - { unlimited: true }
      - { name: b, groups: [admin], unlimited: true, limit: 3 }
      - { name: nothing }
  - { path: ^/b, rules: {} , extra: 1 }
`),
    );
    expect(found).toEqual([
      `rampart-${n}.yaml:3:14: routes[0].methods must be a non-empty list of HTTP methods (GET, POST...), got an array.`,
      `rampart-${n}.yaml:5:7: routes[0].rules: two rules are named 'a'. Give each rule its own name.`,
      `rampart-${n}.yaml:7:9: routes[0].rules[2]: an unlimited rule needs the groups it leaves unlimited (groups: [admin]); an entry that limits nothing has rules: [].`,
      `rampart-${n}.yaml:8:9: routes[0].rules[3]: an unlimited rule takes only groups and methods, not name, limit.`,
      `rampart-${n}.yaml:9:9: routes[0].rules[4]: rule 'nothing' names no module rule, so it needs its own limit and windowMs. Add them, or name one of the module's rules.`,
      `rampart-${n}.yaml:10:25: routes[1].rules must be a list of rules ([] limits nothing on the entry's paths), got an object.`,
      `rampart-${n}.yaml:10:37: routes[1].extra is not an option; the options are path, name, methods, rules.`,
    ]);
  });

  it('builds the storage section from the environment, and names a variable that is not set', async () => {
    const loaded = await loadConfigFile(file('storage: { type: mongodb, uri: "mongodb://${DB_HOST}:27017/app" }\n'), { env: { DB_HOST: 'db.internal' } });
    expect(loaded.storage).toEqual({ type: 'mongodb', uri: 'mongodb://db.internal:27017/app' });
    expect(await problems(file('storage: { type: redis, url: "${REDIS_URL}", db: 2 }\n'))).toEqual([
      `rampart-${n}.yaml:1:30: storage.url reads \${REDIS_URL}, which the environment does not set.`,
      `rampart-${n}.yaml:1:50: storage.db is not a setting of the redis storage; its settings are type, url, prefix.`,
    ]);
    expect(await problems(file('storage: { type: cassandra }\n'))).toEqual([
      `rampart-${n}.yaml:1:18: storage.type must be 'memory', 'mongodb' or 'redis', got "cassandra".`,
    ]);
  });
});

describe('environment overrides', () => {
  it('sets the default rule from RATE_LIMIT_PER_MINUTE and RATE_LIMIT_BURST (a token bucket for the built-in rule), RAMPART_ names first', () => {
    const problems: string[] = [];
    expect(withEnvOverrides({}, { RATE_LIMIT_PER_MINUTE: '120', RATE_LIMIT_BURST: '20', RATE_LIMIT_ENABLED: 'false' }, problems)).toEqual({
      enabled: false,
      rules: [{ name: 'default', limit: 120, windowMs: 60_000, algorithm: 'token-bucket', burst: 20 }],
    });
    expect(
      withEnvOverrides(
        {
          rules: [
            { name: 'default', limit: 5, windowMs: 1_000, algorithm: 'gcra' },
            { name: 'x', limit: 1, windowMs: 1 },
          ],
        },
        { RAMPART_LIMIT_PER_MINUTE: '7', RATE_LIMIT_PER_MINUTE: '9' },
        problems,
      ).rules,
    ).toEqual([
      { name: 'default', limit: 7, windowMs: 60_000, algorithm: 'gcra' },
      { name: 'x', limit: 1, windowMs: 1 },
    ]);
    expect(withEnvOverrides({}, { WS_MAX_CONNECTIONS_PER_USER: '10', WS_MESSAGE_RATE_LIMIT: '200' }, problems)).toEqual({
      websockets: { maxConnections: 10, messageRate: { limit: 200, windowMs: 60_000 } },
    });
    expect(problems).toEqual([]);
  });

  it('names each variable it cannot apply', () => {
    const problems: string[] = [];
    withEnvOverrides({ rules: [{ name: 'api', limit: 1, windowMs: 1 }] }, { RATE_LIMIT_PER_MINUTE: '60' }, problems);
    withEnvOverrides({ rules: [{ limit: 1, windowMs: 1 }] }, { RATE_LIMIT_BURST: '5' }, problems);
    withEnvOverrides({}, { RATE_LIMIT_ENABLED: 'maybe', RAMPART_BURST: '-1', WS_MAX_CONNECTIONS_PER_USER: '1e3' }, problems);
    expect(problems).toEqual([
      "RATE_LIMIT_PER_MINUTE sets the rule named 'default', and the rules have none: name one of them 'default', or unset RATE_LIMIT_PER_MINUTE.",
      `RATE_LIMIT_BURST sets the burst of the rule 'default', whose algorithm "sliding-window" has none: give it algorithm 'token-bucket' or 'gcra'.`,
      'RATE_LIMIT_ENABLED="maybe": must be true or false (1/0, yes/no, on/off).',
      'RAMPART_BURST="-1": must be a positive integer.',
      'WS_MAX_CONNECTIONS_PER_USER="1e3": must be a positive integer.',
    ]);
  });
});

describe('path patterns', () => {
  it('are matched from the start of the percent-decoded path, without the query, case, duplicate and trailing slashes, up to 1 024 characters', () => {
    const { regex } = compilePathPattern('/towns') as { regex: RegExp };
    const matches = (url: string) => regex.test(matchedPath(url) as string);
    expect(matches('/towns?x=1')).toBe(true);
    expect(matches('/tow%6Es/3')).toBe(true);
    expect(matches('/api/towns')).toBe(false);
    expect(matchedPath('/%E0%A4%A')).toBe('/%E0%A4%A');
    // As routers that ignore case, duplicate and trailing slashes serve them.
    expect(matches('/TOWNS')).toBe(true);
    expect(matchedPath('//towns//3/')).toBe('/towns/3');
    expect(matchedPath('/')).toBe('/');
    // An absolute-form target and a fragment are served as the path they hold.
    expect(matchedPath('http://x.example/towns?q')).toBe('/towns');
    expect(matchedPath('/towns#x')).toBe('/towns');
    // An encoded slash stays inside its segment, as the routers keep it.
    expect(matchedPath('/towns/a%2Fb')).toBe('/towns/a%2Fb');
    expect(matchedPath(`/${'a'.repeat(1_023)}`)).toHaveLength(1_024);
    expect(matchedPath(`/${'a'.repeat(1_024)}`)).toBeUndefined();
  });
});

describe("the README's configuration file", () => {
  it('is examples/rampart.yaml, and loads', async () => {
    const { readFileSync } = await import('node:fs');
    const root = join(__dirname, '..', '..');
    const example = readFileSync(join(root, 'examples', 'rampart.yaml'), 'utf8');
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('```yaml\n' + example + '```');
    const loaded = await loadConfigFile(join(root, 'examples', 'rampart.yaml'), { env: { MONGO_URL: 'mongodb://db.internal:27017/app' } });
    expect(loaded.storage).toEqual({ type: 'mongodb', uri: 'mongodb://db.internal:27017/app' });
    expect(loaded.options.routes).toHaveLength(5);
  });
});
