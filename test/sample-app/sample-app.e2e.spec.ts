/**
 * The sample app's AppModule, booted in-process on the memory storage. The app reads its settings
 * from the environment when its modules are imported (decorators need them), so each boot sets the
 * environment, drops the module registry and imports the app afresh (Nest's testing module too, so
 * that both share one copy of @nestjs/core).
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';

/** Every variable the sample app reads (MONGO_URL is set by the test harness: removed here). */
const SAMPLE_APP_VARS = [
  'PORT',
  'TCP_PORT',
  'RATE_LIMIT_DEFAULT',
  'RATE_LIMIT_WINDOW_MS',
  'RATE_LIMIT_LOGIN',
  'RATE_LIMIT_LOGIN_WINDOW_MS',
  'MONGO_URL',
  'MONGO_DB',
  'REDIS_URL',
  'REDIS_PREFIX',
  'RATE_LIMIT_ADMIN_KEY',
  'ESCALATION_BLOCK_AFTER',
  'ESCALATION_BLOCK_MS',
  'ESCALATION_BAN_AFTER',
  'TRUST_PROXY',
] as const;

const ADMIN_KEY = 'sample-app-e2e-admin-key';
const saved = new Map(SAMPLE_APP_VARS.map((name) => [name, process.env[name]]));

function setEnv(env: Partial<Record<(typeof SAMPLE_APP_VARS)[number], string>>): void {
  for (const name of SAMPLE_APP_VARS) delete process.env[name];
  Object.assign(process.env, env);
}

async function bootSampleApp(env: Partial<Record<(typeof SAMPLE_APP_VARS)[number], string>>): Promise<INestApplication> {
  setEnv(env);
  jest.resetModules();
  const { Test } = await import('@nestjs/testing');
  const { AppModule } = await import('../../sample-app/src/app.module.js');
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

afterAll(() => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('sample app with RATE_LIMIT_ADMIN_KEY (defaults otherwise)', () => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await bootSampleApp({ RATE_LIMIT_ADMIN_KEY: ADMIN_KEY });
  });
  afterAll(() => app?.close());

  it('never limits GET /health (the terminus check of the rate-limit storage: up), and sends it no rate-limit headers', async () => {
    for (let i = 0; i < 25; i++) {
      const res = await http().get('/health').expect(200);
      expect(res.body).toMatchObject({ status: 'ok', info: { rampart: { status: 'up', storage: 'ready' } }, error: {} });
      expect(res.headers['ratelimit']).toBeUndefined();
    }
  });

  it('counts GET / with the default rule (10 per 60 s)', async () => {
    const res = await http().get('/').expect(200);
    expect(res.headers['ratelimit-policy']).toBe('"default";q=10;w=60');
    expect(res.headers['ratelimit']).toMatch(/^"default";r=9;t=\d+$/);
  });

  it('admits 5 login attempts per window, then answers 429 naming the login rule', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await http().post('/auth/login').expect(201);
      expect(res.body).toEqual({ token: 'sample-token' });
    }
    const denied = await http().post('/auth/login').expect(429);
    expect(denied.body).toMatchObject({ status: 429, rule: 'login', limit: 5 });
    expect(Number(denied.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(denied.headers['retry-after'])).toBeLessThanOrEqual(60);
    await http().get('/health').expect(200);
  });

  it('mounts the admin API: 401 without the key or with another, 200 with it', async () => {
    const missing = await http().get('/rate-limit/bans').expect(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer /);
    await http().get('/rate-limit/bans').set('Authorization', 'Bearer another-key-of-some-length').expect(401);
    const listed = await http().get('/rate-limit/bans').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    expect(listed.body).toEqual({ items: [] });
    const violations = await http().get('/rate-limit/violations').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    expect(violations.body.items).toEqual([expect.objectContaining({ rule: 'login', method: 'POST' })]);
  });

  it("limits the GraphQL query `quote` (3 per minute), refusing the fourth with RATE_LIMITED, and refuses an operation too complex (the violation is recorded like a route's)", async () => {
    const query = (body: object) => http().post('/graphql').send(body);
    for (let i = 0; i < 3; i++) {
      const res = await query({ query: '{ quote }' }).expect(200);
      expect(res.body.data.quote).toEqual(expect.any(String));
      expect(res.headers['ratelimit']).toMatch(new RegExp(`^"default";r=${2 - i};t=\\d+$`));
    }
    const refused = await query({ query: '{ quote }' }).expect(200);
    expect(refused.body.data).toEqual({ quote: null });
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ path: ['quote'], extensions: expect.objectContaining({ code: 'RATE_LIMITED', rule: 'default' }) }),
    ]);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const complex = await query({ query: '{ quotes(count: 60) }' }).expect(400);
    expect(complex.body.errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 50, actual: 60 });
    const violations = await http().get('/rate-limit/violations').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    expect(violations.body.items[0]).toMatchObject({ rule: 'default', route: 'Query.quote', method: 'query', limit: 3 });
  });
});

describe('sample app without RATE_LIMIT_ADMIN_KEY, escalation and proxies from the environment', () => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await bootSampleApp({
      RATE_LIMIT_LOGIN: '2',
      ESCALATION_BLOCK_AFTER: '2',
      ESCALATION_BLOCK_MS: '30000',
      TRUST_PROXY: 'loopback',
    });
  });
  afterAll(() => app?.close());

  it('serves Prometheus metrics at GET /metrics, never limited, counting each decision', async () => {
    const allowed = async () => {
      const res = await http().get('/metrics').expect(200);
      expect(res.headers['ratelimit']).toBeUndefined();
      return Number(/^rampart_decisions_total\{protocol="http",outcome="allowed",rule="default"\} (\d+)$/m.exec(res.text)?.[1] ?? 0);
    };
    const before = await allowed();
    await http().get('/').set('X-Forwarded-For', '198.51.100.60').expect(200);
    for (let i = 0; i < 15; i++) await allowed();
    expect(await allowed()).toBe(before + 1);
  });

  it('does not mount the admin API', async () => {
    await http().get('/rate-limit/bans').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(404);
  });

  it('blocks a client (named by X-Forwarded-For from loopback) after ESCALATION_BLOCK_AFTER violations, for ESCALATION_BLOCK_MS', async () => {
    const login = (client: string) => http().post('/auth/login').set('X-Forwarded-For', client);
    await login('203.0.113.7').expect(201);
    await login('203.0.113.7').expect(201);
    expect((await login('203.0.113.7').expect(429)).body).toMatchObject({ rule: 'login' });
    const blocked = await login('203.0.113.7').expect(429);
    expect(blocked.body.blockedUntil).toEqual(expect.any(String));
    expect(Number(blocked.headers['retry-after'])).toBe(30);
    // Another client behind the same proxy is counted on its own.
    await login('198.51.100.23').expect(201);
  });
});

describe('sample app TCP microservice', () => {
  let app: INestApplication;
  let client: import('@nestjs/microservices').ClientProxy | undefined;
  const send = async (pattern: unknown, data: unknown) => (await import('rxjs')).firstValueFrom((client as NonNullable<typeof client>).send(pattern, data));

  beforeAll(async () => {
    app = await bootSampleApp({ RATE_LIMIT_DEFAULT: '2' });
    const { startMicroservice } = await import('../../sample-app/src/microservice.js');
    const port = await startMicroservice(app, 0);
    const { ClientProxyFactory, Transport } = await import('@nestjs/microservices');
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
  });
  afterAll(async () => {
    await client?.close();
    await app?.close();
  });

  it("limits { cmd: 'sum' } by the default rule, and answers bad input with a clear error", async () => {
    await expect(send({ cmd: 'sum' }, 'not numbers')).rejects.toEqual({ status: 'error', message: 'sum takes an array of finite numbers' });
    expect(await send({ cmd: 'sum' }, [1, 2, 3])).toBe(6);
    await expect(send({ cmd: 'sum' }, [1])).rejects.toMatchObject({
      status: 'error',
      code: 'RATE_LIMITED',
      rule: 'default',
      retryAfterSeconds: expect.any(Number),
    });
  });

  it("runs at most two { cmd: 'report' } jobs of a client at once", async () => {
    const outcomes = await Promise.allSettled([100, 100, 100].map((ms) => send({ cmd: 'report' }, ms)));
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<unknown>).value)).toEqual([
      { tookMs: 100 },
      { tookMs: 100 },
    ]);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason)).toEqual([
      expect.objectContaining({ code: 'CONCURRENCY_LIMITED', limit: 2 }),
    ]);
    expect(await send({ cmd: 'report' }, 0)).toEqual({ tookMs: 0 });
  });
});

describe('sample app settings', () => {
  beforeAll(() => setEnv({}));

  it('refuses an admin key shorter than 16 characters and out-of-range escalation values', async () => {
    jest.resetModules();
    const { readSettings } = await import('../../sample-app/src/config.js');
    const { problems } = readSettings({ RATE_LIMIT_ADMIN_KEY: 'too-short', ESCALATION_BLOCK_AFTER: '0', ESCALATION_BAN_AFTER: '-1' });
    expect(problems).toEqual([
      'RATE_LIMIT_ADMIN_KEY must be at least 16 characters, got 9',
      'ESCALATION_BLOCK_AFTER must be an integer from 1 to 9007199254740991, got "0"',
      'ESCALATION_BAN_AFTER must be an integer from 0 to 9007199254740991, got "-1"',
    ]);
  });

  it('puts the TCP microservice on the port after PORT, or on a free one with PORT=0', async () => {
    const { readSettings } = await import('../../sample-app/src/config.js');
    expect(readSettings({}).settings).toMatchObject({ port: 3000, tcpPort: 3001 });
    expect(readSettings({ PORT: '0' }).settings).toMatchObject({ port: 0, tcpPort: 0 });
    expect(readSettings({ PORT: '8080', TCP_PORT: '9090' }).settings).toMatchObject({ port: 8080, tcpPort: 9090 });
    expect(readSettings({ TCP_PORT: 'x' }).problems).toEqual(['TCP_PORT must be an integer from 0 to 65535, got "x"']);
  });

  it('uses the memory storage without MONGO_URL and MongoDB with it', async () => {
    const { readSettings } = await import('../../sample-app/src/config.js');
    const { describeStorage } = await import('../../sample-app/src/storage.js');
    expect(describeStorage(readSettings({}).settings)).toMatch(/^storage: in memory/);
    const mongo = readSettings({ MONGO_URL: 'mongodb://user:secret@db.example:27017' }).settings;
    expect(mongo).toMatchObject({ mongoUrl: 'mongodb://user:secret@db.example:27017', mongoDb: 'rampart_sample' });
    expect(describeStorage(mongo)).toBe('storage: MongoDB at mongodb://***@db.example:27017, database rampart_sample (MONGO_URL)');
  });

  it('uses Redis with REDIS_URL, and Redis for counters with MongoDB for records with both', async () => {
    const { readSettings } = await import('../../sample-app/src/config.js');
    const { describeStorage } = await import('../../sample-app/src/storage.js');
    const redis = readSettings({ REDIS_URL: 'redis://:secret@cache.example:6379', REDIS_PREFIX: 'app:' }).settings;
    expect(describeStorage(redis)).toBe('storage: Redis at redis://***@cache.example:6379, keys under app: (REDIS_URL)');
    const both = readSettings({ REDIS_URL: 'redis://cache.example:6379', MONGO_URL: 'mongodb://db.example:27017' }).settings;
    expect(describeStorage(both)).toBe(
      'storage: counters in Redis at redis://cache.example:6379, keys under rampart: (REDIS_URL); bans, violations and lists in MongoDB at mongodb://db.example:27017, database rampart_sample (MONGO_URL)',
    );
  });
});
