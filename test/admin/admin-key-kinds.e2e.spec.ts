/**
 * The admin API names both kinds of client key: an address as the README shows it (`198.51.100.7`),
 * an identity as it is stored (`user-42`), and any identity explicitly as `id:<identity>`
 * (`id:198.51.100.7` is the identity, never the address). On the memory and the MongoDB storage.
 */
import type { ExecutionContext, ModuleMetadata } from '@nestjs/common';
import mongoose from 'mongoose';
import { RateLimitModule, type RampartStorage } from '../../lib/index.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type AdapterName, type TestApp } from '../support/http-app.js';
import { BEARER, ADMIN_KEY, PingController } from './admin.app.js';

const apiKeyHeader = (ctx: ExecutionContext) =>
  ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-api-key'] || undefined;

/** `/ping` limited to 2 a minute per client, keyed by X-Api-Key when sent, clients told apart by X-Forwarded-For. */
function appWith(storage: RampartStorage): ModuleMetadata {
  return {
    imports: [
      RateLimitModule.forRoot({
        rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }],
        clock: new FakeClock(),
        storage,
        trustProxy: { proxies: ['loopback'] },
        keyResolver: apiKeyHeader,
        adminApiKey: ADMIN_KEY,
        admin: {},
      }),
    ],
    controllers: [PingController],
  };
}

/** Every way of naming a key, through the admin API of a running app. */
function namingScenario(start: () => Promise<TestApp>): void {
  let t: TestApp;
  beforeEach(async () => {
    t = await start();
  });
  afterEach(() => t.close());

  const admin = {
    get: (path: string) => t.http().get(`/rate-limit${path}`).set('Authorization', BEARER),
    post: (path: string, body: object) => t.http().post(`/rate-limit${path}`).set('Authorization', BEARER).send(body),
    delete: (path: string) => t.http().delete(`/rate-limit${path}`).set('Authorization', BEARER),
  };
  const from = (address: string, apiKey?: string) => {
    const req = t.http().get('/ping').set('X-Forwarded-For', address);
    return apiKey === undefined ? req : req.set('X-Api-Key', apiKey);
  };
  const keys = async (query: string) => ((await admin.get(`/bans${query}`).expect(200)).body.items as { key: string }[]).map((b) => b.key);

  it('bans an identity that reads like an address as id:<identity>, never the address', async () => {
    const created = await admin.post('/bans', { key: 'id:198.51.100.7', kind: 'permanent', reason: 'spoofing' }).expect(201);
    expect(created.body).toMatchObject({ id: 'key:id:198.51.100.7', key: 'id:198.51.100.7', kind: 'permanent', active: true });

    await from('203.0.113.9', '198.51.100.7').expect(403);
    await from('198.51.100.7').expect(200);
    await from('198.51.100.7', 'alice').expect(200);

    expect(await keys('?key=id:198.51.100.7')).toEqual(['id:198.51.100.7']);
    expect(await keys('?key=198.51.100.7')).toEqual([]);
    const identity = await admin.get(`/clients/${encodeURIComponent('id:198.51.100.7')}`).expect(200);
    expect(identity.body).toMatchObject({ key: 'id:198.51.100.7', status: 'banned', ban: { key: 'id:198.51.100.7' } });
    expect((await admin.get('/clients/198.51.100.7').expect(200)).body).toMatchObject({ key: '198.51.100.7', status: 'none', ban: null });

    await admin.delete('/bans?key=198.51.100.7').expect(404);
    await admin.delete(`/bans?key=${encodeURIComponent('id:198.51.100.7')}`).expect(200);
    await from('203.0.113.9', '198.51.100.7').expect(200);
  });

  it('bans an address as the README shows it: refused whatever identity it presents', async () => {
    const created = await admin.post('/bans', { key: '198.51.100.8', kind: 'temporary', durationMs: 60_000, reason: 'abuse' }).expect(201);
    expect(created.body).toMatchObject({ id: 'key:198.51.100.8', key: '198.51.100.8' });
    await from('198.51.100.8').expect(429);
    await from('198.51.100.8', 'alice').expect(429).expect('retry-after', '60');
    // The identity of the same text, from elsewhere, is another client.
    await from('203.0.113.9', '198.51.100.8').expect(200);
    expect((await admin.get('/clients/198.51.100.8').expect(200)).body).toMatchObject({ status: 'blocked' });
    expect((await admin.get(`/clients/${encodeURIComponent('id:198.51.100.8')}`).expect(200)).body).toMatchObject({ status: 'none', ban: null });
  });

  it('names an identity as stored or as id:<identity>, alike', async () => {
    const created = await admin.post('/bans', { key: 'id:user-42', kind: 'permanent', reason: 'abuse' }).expect(201);
    expect(created.body).toMatchObject({ id: 'key:user-42', key: 'user-42' });
    await from('203.0.113.9', 'user-42').expect(403);
    expect(await keys('?key=user-42')).toEqual(['user-42']);
    expect(await keys('?key=id:user-42')).toEqual(['user-42']);
    expect((await admin.get('/clients/id:user-42').expect(200)).body).toMatchObject({ key: 'user-42', status: 'banned' });
    await admin.delete('/bans?key=user-42').expect(200);
    await admin.delete('/bans?key=id:user-42').expect(404);
  });

  it('lists the violations of each kind apart', async () => {
    // The identity 198.51.100.9, from another address, exceeds the limit once.
    for (const status of [200, 200, 429]) await from('203.0.113.9', '198.51.100.9').expect(status);
    // The address 198.51.100.9 exceeds it twice.
    for (const status of [200, 200, 429, 429]) await from('198.51.100.9').expect(status);

    const violations = async (key: string) =>
      ((await admin.get(`/violations?key=${encodeURIComponent(key)}`).expect(200)).body.items as { key: string }[]).map((v) => v.key);
    expect(await violations('id:198.51.100.9')).toEqual(['id:198.51.100.9']);
    expect(await violations('198.51.100.9')).toEqual(['198.51.100.9', '198.51.100.9']);
    expect((await admin.get(`/clients/${encodeURIComponent('id:198.51.100.9')}`).expect(200)).body).toMatchObject({
      key: 'id:198.51.100.9',
      recentViolations: 1,
      counters: [expect.objectContaining({ rule: 'default', remaining: 0 })],
    });
  });
}

describe.each(ADAPTERS)('admin API: naming addresses and identities (memory storage, %s)', (adapter) => {
  namingScenario(() => startApp(adapter, appWith(memoryStorage())));
});

describeMongo('admin API: naming addresses and identities (MongoDB storage)', () => {
  const dbNames: string[] = [];
  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl()).asPromise();
    for (const dbName of dbNames) await connection.useDb(dbName).dropDatabase();
    await connection.close();
  });

  describe.each(ADAPTERS)('on %s', (adapter: AdapterName) => {
    namingScenario(() => {
      const dbName = uniqueDbName('admin_key_kinds');
      dbNames.push(dbName);
      return startApp(adapter, appWith(mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false })));
    });
  });
});
