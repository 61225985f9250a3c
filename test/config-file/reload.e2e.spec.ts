import { RateLimitPolicy } from '../../lib/config-file/rate-limit-policy.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { ADAPTERS, type AdapterName } from '../support/http-app.js';
import { until } from '../support/until.js';
import { ADMIN_KEY, configFolder, startConfigApp, statuses, type ConfigApp } from './config-file.app.js';

const AUTH = { Authorization: `Bearer ${ADMIN_KEY}` };
const rules = (limit: number, algorithm = 'fixed-window') =>
  `rules:\n  - { name: default, limit: ${limit}, windowMs: 1m, algorithm: ${algorithm} }\nescalation: false\n`;

/** Each scenario on a storage: the file's own memory storage, or MongoDB named by the file through the environment. */
function reloadScenarios(adapter: AdapterName, storage: 'memory' | 'mongodb') {
  const storageSection = storage === 'mongodb' ? 'storage: { type: mongodb, uri: "${RAMPART_TEST_MONGO}" }\n' : '';
  const env = storage === 'mongodb' ? { RAMPART_TEST_MONGO: `${mongoUrl()}/${uniqueDbName('config_reload')}` } : {};
  let t: ConfigApp;
  let folder: ReturnType<typeof configFolder>;
  const errors: string[] = [];
  const logger = { log: () => undefined, warn: () => undefined, error: (message: string) => void errors.push(message) };
  const version = () => t.app.get(RateLimitPolicy).describe().version;

  beforeAll(async () => {
    folder = configFolder();
    folder.write(storageSection + rules(3));
    t = await startConfigApp(adapter, { configFile: { path: folder.path, watch: false, reloadSignal: false }, env, logger });
  });
  afterAll(() => t.close());

  it('applies a valid change at once, keeping the counters of a rule that keeps its name and algorithm', async () => {
    expect(await statuses(t, 2, '/other', '203.0.113.1')).toEqual([200, 200]);
    folder.write(storageSection + rules(4));
    const reload = await t.http().post('/rate-limit/config/reload').set(AUTH).expect(200);
    expect(reload.body).toEqual({ status: 'reloaded', version: 2, hash: expect.stringMatching(/^[0-9a-f]{64}$/), restartNeeded: [] });
    // Two counted before the reload: two more within the new limit of 4.
    expect(await statuses(t, 3, '/other', '203.0.113.1')).toEqual([200, 200, 429]);
    expect((await t.http().get('/other').set('X-Forwarded-For', '203.0.113.2')).headers['ratelimit-policy']).toBe('"default";q=4;w=60');
  });

  it('starts a rule afresh when its algorithm changes', async () => {
    folder.write(storageSection + rules(4, 'sliding-window'));
    expect((await t.http().post('/rate-limit/config/reload').set(AUTH).expect(200)).body).toMatchObject({ status: 'reloaded', version: 3 });
    expect(await statuses(t, 5, '/other', '203.0.113.1')).toEqual([200, 200, 200, 200, 429]);
  });

  it("shows a client's counters under the rules in force, route entries' too, in the admin API", async () => {
    folder.write(storageSection + rules(4, 'gcra') + 'routes:\n  - { path: ^/towns, rules: [{ name: towns, limit: 9, windowMs: 1m }] }\n');
    expect((await t.http().post('/rate-limit/config/reload').set(AUTH).expect(200)).body).toMatchObject({ status: 'reloaded', version: 4 });
    await statuses(t, 1, '/towns', '203.0.113.9');
    await statuses(t, 1, '/other', '203.0.113.9');
    const counters = (await t.http().get('/rate-limit/clients/203.0.113.9').set(AUTH).expect(200)).body.counters as {
      rule: string;
      route: string;
      limit: number;
    }[];
    expect(counters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'towns', route: 'path:^/towns', limit: 9 }),
        expect.objectContaining({ rule: 'default', route: 'TownsController.other', limit: 4 }),
      ]),
    );
    folder.write(storageSection + rules(4, 'sliding-window'));
    expect((await t.http().post('/rate-limit/config/reload').set(AUTH).expect(200)).body).toMatchObject({ status: 'reloaded', version: 5 });
  });

  it('answers unchanged for the same file', async () => {
    expect((await t.http().post('/rate-limit/config/reload').set(AUTH).expect(200)).body).toEqual({
      status: 'unchanged',
      version: 5,
      hash: expect.any(String),
    });
  });

  it('keeps the configuration in force when the file is invalid, and lists and logs every problem with its line', async () => {
    errors.length = 0;
    folder.write(storageSection + 'rules:\n  - { name: default, limit: -1, windowMs: 1m }\n  - { name: x, limit: [\n');
    const malformed = await t.http().post('/rate-limit/config/reload').set(AUTH).expect(422);
    expect(malformed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(malformed.body.detail).toContain('version 5 stays in force');
    expect(malformed.body.errors.length).toBeGreaterThan(0);
    for (const problem of malformed.body.errors) expect(problem).toMatch(/rampart\.yaml:\d+:\d+: /);
    folder.write(storageSection + 'rules:\n  - { name: default, limit: -1, windowMs: 1m }\nroutes:\n  - { path: "(a+)+$", rules: [] }\n');
    const invalid = await t.http().post('/rate-limit/config/reload').set(AUTH).expect(422);
    expect(invalid.body.errors).toEqual([
      expect.stringMatching(/rampart\.yaml:\d+:\d+: rules\[0\]\.limit must be a positive integer, got -1\.$/),
      expect.stringMatching(/rampart\.yaml:\d+:\d+: routes\[0\]\.path "\(a\+\)\+\$" could backtrack catastrophically/),
    ]);
    expect(errors).toHaveLength(2);
    expect(errors[1]).toContain('not reloaded (admin): version 5 stays in force; 2 problems:');
    expect(errors[1]).toContain('rules[0].limit must be a positive integer, got -1.');
    expect(version()).toBe(5);
    // Still the limit of version 5 (4 a minute), for a new client.
    expect(await statuses(t, 5, '/other', '203.0.113.3')).toEqual([200, 200, 200, 200, 429]);
  });

  it('shows the configuration in force, its version and the file', async () => {
    folder.write(storageSection + rules(6) + 'global:\n  storeTimeoutMs: 400ms\n');
    expect((await t.http().post('/rate-limit/config/reload').set(AUTH).expect(200)).body).toMatchObject({
      status: 'reloaded',
      version: 6,
      restartNeeded: ['global.storeTimeoutMs'],
    });
    const shown = await t.http().get('/rate-limit/config').set(AUTH).expect(200);
    expect(shown.body).toMatchObject({
      version: 6,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      source: folder.path,
      reloadable: ['rules', 'routes', 'excludePaths', 'groups', 'escalation', 'global.enabled'],
      restartNeeded: ['global.storeTimeoutMs'],
      file: { rules: [{ name: 'default', limit: 6, windowMs: 60_000, algorithm: 'fixed-window' }], escalation: false, global: { storeTimeoutMs: 400 } },
      effective: { enabled: true, rules: [{ name: 'default', limit: 6, windowMs: 60_000, algorithm: 'fixed-window' }], escalation: null },
    });
    await t.http().get('/rate-limit/config').expect(401);
    await t.http().post('/rate-limit/config/reload').expect(401);
  });
}

describe.each(ADAPTERS)('reloading the configuration file on %s (memory)', (adapter) => reloadScenarios(adapter, 'memory'));
describeMongo('reloading the configuration file (MongoDB named by the file)', () => {
  describe.each(ADAPTERS)('on %s', (adapter) => reloadScenarios(adapter, 'mongodb'));
});

describe('what triggers a reload', () => {
  it('reloads when the file changes (SIGHUP: see sighup.e2e.spec.ts, a process of its own)', async () => {
    const folder = configFolder();
    folder.write(rules(2));
    const errors: string[] = [];
    const logger = { log: () => undefined, warn: () => undefined, error: (message: string) => void errors.push(message) };
    const t = await startConfigApp('express', { configFile: { path: folder.path, reloadSignal: false }, logger });
    const policy = t.app.get(RateLimitPolicy);
    try {
      expect(await statuses(t, 3, '/other', '192.0.2.1')).toEqual([200, 200, 429]);
      folder.write(rules(5));
      await until(() => policy.describe().version === 2, 5_000);
      expect(await statuses(t, 2, '/other', '192.0.2.1')).toEqual([200, 200]);
      // An invalid change is refused as well when the watcher finds it.
      folder.write('rules: [\n');
      await until(() => errors.length === 1, 5_000);
      expect(errors[0]).toContain('not reloaded (file): version 2 stays in force');
      expect(policy.describe().version).toBe(2);
    } finally {
      await t.close();
    }
  });

  it('warns when another listener (Nest’s enableShutdownHooks()) handles the reload signal too', async () => {
    const other = () => undefined;
    process.on('SIGUSR2', other);
    const warnings: string[] = [];
    const logger = { log: () => undefined, warn: (message: string) => void warnings.push(message), error: () => undefined };
    const folder = configFolder();
    folder.write(rules(2));
    const t = await startConfigApp('express', { configFile: { path: folder.path, watch: false, reloadSignal: 'SIGUSR2' }, logger });
    try {
      expect(warnings).toEqual([
        expect.stringContaining('SIGUSR2 reloads the configuration file, and another listener handles it too: with app.enableShutdownHooks()'),
      ]);
      expect(process.listenerCount('SIGUSR2')).toBe(2);
    } finally {
      await t.close();
      process.off('SIGUSR2', other);
    }
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('answers 409 through the admin API without a configuration file', async () => {
    const t = await startConfigApp('fastify', { rules: [{ limit: 5, windowMs: 1_000 }] });
    try {
      const response = await t.http().post('/rate-limit/config/reload').set(AUTH).expect(409);
      expect(response.body.detail).toContain('no configuration file');
      expect((await t.http().get('/rate-limit/config').set(AUTH).expect(200)).body).toMatchObject({ version: 1, hash: null, source: null, file: null });
    } finally {
      await t.close();
    }
  });
});
