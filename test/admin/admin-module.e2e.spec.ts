import { Injectable, Module, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RateLimitAdminModule } from '../../lib/admin/index.js';
import { RateLimitConfigurationError, RateLimitModule } from '../../lib/index.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';

const KEY = 'admin-module-key-0123456789';
const BAN = { key: '203.0.113.7', kind: 'permanent', reason: 'abuse' };

@Injectable()
class Settings {
  readonly adminKey = KEY;
}

@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

describe.each(ADAPTERS)('RateLimitAdminModule on %s', (adapter) => {
  let t: TestApp | undefined;
  afterEach(() => t?.close());

  const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

  it('forRoot: its own path and API key, on the global RateLimitModule', async () => {
    t = await startApp(adapter, { imports: [RateLimitModule.forRoot({}), RateLimitAdminModule.forRoot({ path: 'ops/limits', apiKey: KEY })] });
    await request(t.app.getHttpServer()).get('/ops/limits/bans').expect(401);
    await request(t.app.getHttpServer()).post('/ops/limits/bans').set(bearer(KEY)).send(BAN).expect(201);
    const page = await request(t.app.getHttpServer()).get('/ops/limits/bans').set(bearer(KEY)).expect(200);
    expect(page.body.items).toMatchObject([{ key: BAN.key, kind: 'permanent', active: true, createdBy: expect.stringMatching(/^api-key:/) }]);
    await request(t.app.getHttpServer()).get('/rate-limit/bans').set(bearer(KEY)).expect(404);
  });

  it('forRootAsync: the key from an injected provider, accepted with the module adminApiKey', async () => {
    const moduleKey = 'rate-limit-module-key-abcdefgh';
    t = await startApp(adapter, {
      imports: [
        RateLimitModule.forRoot({ adminApiKey: moduleKey }),
        RateLimitAdminModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({ apiKey: settings.adminKey }),
        }),
      ],
    });
    await request(t.app.getHttpServer()).get('/rate-limit/bans').set(bearer(KEY)).expect(200);
    await request(t.app.getHttpServer()).get('/rate-limit/bans').set(bearer(moduleKey)).expect(200);
    await request(t.app.getHttpServer()).get('/rate-limit/bans').set(bearer('not-the-key-0123456789')).expect(401);
  });
});

describe('RateLimitAdminModule registration errors', () => {
  const compile = (imports: ModuleMetadata['imports']) => Test.createTestingModule({ imports }).compile();

  it('refuses to start without credentials, and names a bad apiKey', async () => {
    await expect(compile([RateLimitModule.forRoot({}), RateLimitAdminModule.forRoot({})])).rejects.toThrow('without credentials');
    await expect(compile([RateLimitModule.forRoot({}), RateLimitAdminModule.forRoot({ apiKey: 'short' })])).rejects.toThrow(
      'apiKey is 5 characters long; an admin API key needs at least 16.',
    );
    await expect(compile([RateLimitModule.forRoot({}), RateLimitAdminModule.forRootAsync({ useFactory: () => ({}) })])).rejects.toThrow(
      RateLimitConfigurationError,
    );
  });

  it('refuses a bad path when the module is defined', () => {
    expect(() => RateLimitAdminModule.forRoot({ path: 'has space', apiKey: KEY })).toThrow('admin.path must be a route prefix');
  });

  it('refuses the admin extra on a module that is not global, saying why', () => {
    expect(() => RateLimitModule.forRoot({ isGlobal: false, admin: {}, adminApiKey: KEY })).toThrow('admin needs RateLimitModule to be global');
  });
});
