import { createHash, randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { RateLimitConfigurationError, RateLimitModule } from '../../lib/index.js';
import { AdminService } from '../../lib/admin/admin.service.js';
import { RateLimitAdminModule } from '../../lib/admin/rate-limit-admin.module.js';
import { ADAPTERS } from '../support/http-app.js';
import { ADMIN_KEY, BEARER, OperatorHeaderGuard, isOperator, OTHER_ADMIN_KEY, startAdminApp, type AdminTestApp } from './admin.app.js';

const BAN = { key: '203.0.113.7', kind: 'permanent', reason: 'abuse' };

describe.each(ADAPTERS)('admin API access on %s', (adapter) => {
  let t: AdminTestApp;
  afterEach(() => t?.close());

  describe('with API keys', () => {
    let service: AdminService;
    let handlers: jest.SpyInstance[];

    beforeEach(async () => {
      t = await startAdminApp(adapter);
      service = t.app.get(AdminService);
      handlers = (['listBans', 'createBan', 'liftBan', 'client', 'listViolations', 'listAccessList', 'addAccessEntry', 'removeAccessEntry'] as const).map(
        (name) => jest.spyOn(service, name),
      );
    });

    const refused: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      ['another scheme', { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}` }],
      ['the scheme alone', { Authorization: 'Bearer' }],
      ['a wrong key of the same length', { Authorization: `Bearer ${'x'.repeat(ADMIN_KEY.length)}` }],
      ['a key of another length', { Authorization: 'Bearer short' }],
      ['a longer key that starts with the right one', { Authorization: `${BEARER}x` }],
      ['the key without its scheme', { Authorization: ADMIN_KEY }],
    ];

    it.each(refused)('answers 401 to %s, with WWW-Authenticate and no handler run', async (_name, headers) => {
      for (const [method, path] of [
        ['get', '/rate-limit/bans'],
        ['post', '/rate-limit/bans'],
        ['delete', '/rate-limit/bans?key=203.0.113.7'],
        ['get', '/rate-limit/clients/203.0.113.7'],
        ['get', '/rate-limit/violations'],
        ['get', '/rate-limit/access-list'],
        ['post', '/rate-limit/access-list'],
        ['delete', '/rate-limit/access-list?kind=deny&cidr=10.0.0.0/8'],
      ] as const) {
        const res = await t
          .http()
          [method](path)
          .set(headers)
          .send(method === 'post' ? BAN : undefined)
          .expect(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="rate-limit-admin"/);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 });
        expect(res.body.detail).toMatch(/Bearer|not valid/);
      }
      for (const spy of handlers) expect(spy).not.toHaveBeenCalled();
      expect(await t.storage.bans.get({ type: 'key', key: '203.0.113.7' })).toBeNull();
    });

    it('tells a missing key from a wrong one', async () => {
      const missing = await t.http().get('/rate-limit/bans').expect(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="rate-limit-admin"');
      const wrong = await t.http().get('/rate-limit/bans').set('Authorization', 'Bearer wrong-key-wrong-key').expect(401);
      expect(wrong.headers['www-authenticate']).toBe('Bearer realm="rate-limit-admin", error="invalid_token"');
      expect(wrong.body.detail).toBe('The admin API key is not valid.');
    });

    it('accepts every configured key (rotation), with any case of the scheme, and names the key in createdBy', async () => {
      const first = await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send(BAN).expect(201);
      const digest = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 4);
      expect(first.body.createdBy).toBe(`api-key:${digest(ADMIN_KEY)}`);
      expect(first.headers['cache-control']).toBe('no-store');
      const second = await t.http().post('/rate-limit/bans').set('Authorization', `bearer  ${OTHER_ADMIN_KEY}`).send(BAN).expect(201);
      expect(second.body.createdBy).toBe(`api-key:${digest(OTHER_ADMIN_KEY)}`);
      const lifted = await t.http().delete('/rate-limit/bans?key=203.0.113.7').set('Authorization', BEARER).expect(200);
      expect(lifted.body.ban.liftedBy).toBe(`api-key:${digest(ADMIN_KEY)}`);
    });

    it('is not rate limited nor refused by bans: an operator can lift a ban covering their own address', async () => {
      // supertest connects from loopback; ban the whole loopback range.
      await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ cidr: '127.0.0.0/8', kind: 'permanent', reason: 'oops' }).expect(201);
      await t.http().get('/ping').expect(403);
      for (let i = 0; i < 120; i++) await t.http().get('/rate-limit/access-list').set('Authorization', BEARER).expect(200);
      await t.http().delete('/rate-limit/bans?cidr=127.0.0.0/8').set('Authorization', BEARER).expect(200);
      await t.http().get('/ping').expect(200);
    });
  });

  describe("with the app's own guard", () => {
    beforeEach(async () => {
      t = await startAdminApp(adapter, { admin: { guard: OperatorHeaderGuard, authorize: isOperator }, options: { adminApiKey: undefined } });
    });

    it('lets the guard decide: 403 when it refuses, whatever the API key, and no handler runs', async () => {
      const spy = jest.spyOn(t.app.get(AdminService), 'createBan');
      const denied = await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send(BAN).expect(403);
      expect(denied.body).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403 });
      expect(denied.headers['cache-control']).toBe('no-store');
      expect(spy).not.toHaveBeenCalled();
      await t.http().get('/rate-limit/bans').expect(403);
    });

    it('records request.user.id as the operator', async () => {
      const res = await t.http().post('/rate-limit/bans').set('x-operator', 'alice').send(BAN).expect(201);
      expect(res.body.createdBy).toBe('alice');
      const list = await t.http().get('/rate-limit/bans').set('x-operator', 'bob').expect(200);
      expect(list.body.items).toHaveLength(1);
    });
  });

  describe('mounting', () => {
    it('mounts nothing without the admin extra (404), even with an API key', async () => {
      t = await startAdminApp(adapter, { admin: null });
      await t.http().get('/rate-limit/bans').set('Authorization', BEARER).expect(404);
      await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send(BAN).expect(404);
      await t.http().get('/ping').expect(200);
    });

    it('mounts at a configured path', async () => {
      t = await startAdminApp(adapter, { admin: { path: '/ops/limits/' } });
      await t.http().get('/ops/limits/bans').set('Authorization', BEARER).expect(200);
      await t.http().get('/rate-limit/bans').set('Authorization', BEARER).expect(404);
    });

    it('takes the API key from the async factory', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [RateLimitModule.forRootAsync({ admin: {}, useFactory: async () => ({ adminApiKey: ADMIN_KEY }) })],
      }).compile();
      expect(moduleRef.get(AdminService)).toBeInstanceOf(AdminService);
      await moduleRef.close();
    });
  });
});

describe('admin API startup errors', () => {
  const compile = (imports: unknown[]) => Test.createTestingModule({ imports: imports as never[] }).compile();

  it('refuses an admin API without credentials', async () => {
    const failure = compile([RateLimitModule.forRoot({ admin: {} })]);
    await expect(failure).rejects.toThrow(RateLimitConfigurationError);
    await expect(compile([RateLimitModule.forRoot({ admin: { path: 'ops' } })])).rejects.toThrow(
      'The admin API is mounted at /ops without credentials. Set adminApiKey (in forRoot or the forRootAsync factory) or admin.guard; anonymous access is never allowed.',
    );
    await expect(compile([RateLimitModule.forRootAsync({ admin: {}, useFactory: () => ({}) })])).rejects.toThrow('without credentials');
  });

  it('refuses short and malformed keys, listing each with the other problems, never showing a key', async () => {
    const failure = compile([RateLimitModule.forRoot({ admin: {}, adminApiKey: [ADMIN_KEY, 'short-secret', 42 as unknown as string], banSyncIntervalMs: -1 })]);
    await expect(failure).rejects.toThrow(RateLimitConfigurationError);
    const error = (await failure.catch((e: unknown) => e)) as RateLimitConfigurationError;
    expect(error.problems).toEqual([
      'banSyncIntervalMs must be a positive integer, got -1.',
      'adminApiKey[1] is 12 characters long; an admin API key needs at least 16. Use a long random key, e.g. the output of `openssl rand -base64 32`.',
      'adminApiKey[2] must be a string of at least 16 characters, or a non-empty array of such strings (several keys allow rotation), got 42.',
    ]);
    expect(error.message).not.toContain('short-secret');
    await expect(compile([RateLimitModule.forRoot({ adminApiKey: [] })])).rejects.toThrow('adminApiKey must be');
    await expect(compile([RateLimitModule.forRoot({ admin: {}, adminApiKey: '' })])).rejects.toThrow('adminApiKey is 0 characters long');
  });

  it('refuses keys with whitespace or fewer than 8 distinct characters, saying how to make one, never showing a key', async () => {
    const weak = ['aaaaaaaaaaaaaaaa', '1212121212121212121212', 'abcdef-abcdef-abcdef-', 'correct horse battery staple', 'admin-key-for-tests\n0123456789'];
    const failure = compile([RateLimitModule.forRoot({ admin: {}, adminApiKey: [ADMIN_KEY, ...weak] })]);
    await expect(failure).rejects.toThrow(RateLimitConfigurationError);
    const error = (await failure.catch((e: unknown) => e)) as RateLimitConfigurationError;
    const generate = "Generate one with `node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"` (or `openssl rand -base64 32`).";
    expect(error.problems).toEqual([
      `adminApiKey[1] has only 1 distinct character; an admin API key needs at least 8 (a repeated or patterned text is guessed first). ${generate}`,
      `adminApiKey[2] has only 2 distinct characters; an admin API key needs at least 8 (a repeated or patterned text is guessed first). ${generate}`,
      `adminApiKey[3] has only 7 distinct characters; an admin API key needs at least 8 (a repeated or patterned text is guessed first). ${generate}`,
      `adminApiKey[4] contains whitespace: it could never be sent in \`Authorization: Bearer <key>\` (a space ends the token), and a key pasted with a newline is one mistake away from another. ${generate}`,
      `adminApiKey[5] contains whitespace: it could never be sent in \`Authorization: Bearer <key>\` (a space ends the token), and a key pasted with a newline is one mistake away from another. ${generate}`,
    ]);
    for (const key of weak) expect(error.message).not.toContain(key);
    // The admin module's own apiKey is held to the same rules.
    await expect(compile([RateLimitModule.forRoot({}), RateLimitAdminModule.forRoot({ apiKey: 'x'.repeat(32) })])).rejects.toThrow(
      'apiKey has only 1 distinct character',
    );
    // A random key passes.
    const moduleRef = await compile([RateLimitModule.forRoot({ admin: {}, adminApiKey: randomBytes(32).toString('base64url') })]);
    await moduleRef.close();
  });

  it('refuses a bad path or guard when the module is defined', () => {
    expect(() => RateLimitModule.forRoot({ admin: { path: 'has space' }, adminApiKey: ADMIN_KEY })).toThrow('admin.path must be a route prefix');
    expect(() => RateLimitModule.forRoot({ admin: { path: '/' }, adminApiKey: ADMIN_KEY })).toThrow(RateLimitConfigurationError);
    expect(() => RateLimitModule.forRoot({ admin: { guard: 'yes' as never } })).toThrow('admin.guard must be a guard class');
  });
});
