import { Test } from '@nestjs/testing';
import { RateLimitConfigurationError, RateLimitModule } from '../../lib/index.js';
import { ADAPTERS } from '../support/http-app.js';
import { FakeClock } from '../support/fake-clock.js';
import { startWsApp, WS_ADAPTERS } from '../ws/ws.app.js';
import { ADMIN_KEY, configFolder, startConfigApp, statuses, TownsController } from './config-file.app.js';

/** The error compiling a module with `options` fails with. */
async function startupError(options: Parameters<typeof RateLimitModule.forRoot>[0]): Promise<RateLimitConfigurationError> {
  try {
    await Test.createTestingModule({ imports: [RateLimitModule.forRoot(options)], controllers: [TownsController] }).compile();
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitConfigurationError);
    return error as RateLimitConfigurationError;
  }
  throw new Error('the module started');
}

describe('starting from a configuration file', () => {
  it('refuses to start with an invalid file, naming its file, line and key', async () => {
    const folder = configFolder();
    folder.write('rules:\n  - { name: default, limit: 0, windowMs: 1m }\nroutes:\n  - { path: "(x+x+)+y", rules: [] }\n');
    const error = await startupError({ configFile: folder.path, env: {} });
    expect(error.message).toContain(`${folder.path} is misconfigured (2 problems):`);
    expect(error.problems).toEqual([
      `${folder.path}:2:29: rules[0].limit must be a positive integer, got 0.`,
      expect.stringMatching(/:4:13: routes\[0\]\.path "\(x\+x\+\)\+y" could backtrack catastrophically/),
    ]);
    expect((await startupError({ configFile: `${folder.path}.missing`, env: {} })).problems).toEqual([`${folder.path}.missing: cannot be read (ENOENT).`]);
  });

  it('refuses environment overrides it cannot apply, each by its name', async () => {
    const error = await startupError({
      env: { RATE_LIMIT_ENABLED: 'perhaps', RATE_LIMIT_PER_MINUTE: 'lots' },
      rules: [{ name: 'api', limit: 1, windowMs: 1 }],
    });
    expect(error.problems).toEqual([
      'RATE_LIMIT_ENABLED="perhaps": must be true or false (1/0, yes/no, on/off).',
      'RATE_LIMIT_PER_MINUTE="lots": must be a positive integer.',
    ]);
  });

  it('loads the file forRootAsync’s factory names, and the one RAMPART_CONFIG names', async () => {
    const folder = configFolder();
    folder.write('rules:\n  - { name: default, limit: 1, windowMs: 1m }\n');
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRootAsync({ useFactory: async () => ({ configFile: folder.path, env: {}, clock: new FakeClock(), logging: false }) })],
      controllers: [TownsController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const { default: request } = await import('supertest');
      expect((await request(app.getHttpServer()).get('/other')).status).toBe(200);
      expect((await request(app.getHttpServer()).get('/other')).status).toBe(429);
    } finally {
      await app.close();
    }
    const t = await startConfigApp('fastify', { env: { RAMPART_CONFIG: folder.path }, rules: [{ limit: 100, windowMs: 60_000 }] });
    try {
      expect(await statuses(t, 2, '/other', '192.0.2.9')).toEqual([200, 429]);
    } finally {
      await t.close();
    }
  });
});

describe.each(ADAPTERS)('environment overrides on %s', (adapter) => {
  it('RATE_LIMIT_PER_MINUTE sets the default rule, over the file and the code', async () => {
    const folder = configFolder();
    folder.write('rules:\n  - { name: default, limit: 50, windowMs: 1s }\n');
    const t = await startConfigApp(adapter, { configFile: { path: folder.path, watch: false, reloadSignal: false }, env: { RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const first = await t.http().get('/other').set('X-Forwarded-For', '192.0.2.1');
      expect(first.headers['ratelimit-policy']).toBe('"default";q=2;w=60');
      expect(await statuses(t, 2, '/other', '192.0.2.1')).toEqual([200, 429]);
    } finally {
      await t.close();
    }
  });

  it('RATE_LIMIT_ENABLED=false limits and refuses nothing; global.enabled: false reloads to the same', async () => {
    const t = await startConfigApp(adapter, { rules: [{ limit: 1, windowMs: 60_000 }], env: { RATE_LIMIT_ENABLED: 'false' } });
    try {
      await t
        .http()
        .post('/rate-limit/bans')
        .set('Authorization', `Bearer ${ADMIN_KEY}`)
        .send({ key: '192.0.2.2', kind: 'permanent', reason: 'abuse' })
        .expect(201);
      expect(await statuses(t, 3, '/other', '192.0.2.2')).toEqual([200, 200, 200]);
    } finally {
      await t.close();
    }
    const folder = configFolder();
    folder.write('rules:\n  - { name: default, limit: 1, windowMs: 1m }\n');
    const u = await startConfigApp(adapter, { configFile: { path: folder.path, watch: false, reloadSignal: false } });
    try {
      expect(await statuses(u, 2, '/other', '192.0.2.3')).toEqual([200, 429]);
      folder.write('global: { enabled: false }\nrules:\n  - { name: default, limit: 1, windowMs: 1m }\n');
      await u.http().post('/rate-limit/config/reload').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
      expect(await statuses(u, 2, '/other', '192.0.2.3')).toEqual([200, 200]);
    } finally {
      await u.close();
    }
  });
});

describe.each(WS_ADAPTERS)('WS_MESSAGE_RATE_LIMIT on %s', (adapter) => {
  it('limits each client’s messages across the gateway’s handlers, besides their own rules', async () => {
    const t = await startWsApp(adapter, { clock: new FakeClock(), env: { WS_MESSAGE_RATE_LIMIT: '3' } });
    try {
      const client = await t.connect();
      const answers: string[] = [];
      for (const event of ['ping', 'burst', 'ping', 'burst', 'free', 'free']) {
        client.send(event, 1);
        const answer = await client.next();
        answers.push(answer.event === 'exception' ? `${(answer.data as { rule: string }).rule}` : answer.event);
      }
      expect(answers).toEqual(['pong', 'burst', 'pong', 'ws-messages', 'free', 'free']);
    } finally {
      await t.close();
    }
  });
});
