/**
 * The admin API while the storage fails or hangs: 503 with a problem body and Retry-After on every
 * operation, within 10 × storeTimeoutMs, never a 500 or a request left hanging; the cause is logged,
 * not told to the client.
 */
import { Logger } from '@nestjs/common';
import type { RampartLogger, RampartStorage } from '../../lib/index.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { ADAPTERS } from '../support/http-app.js';
import { BEARER, startAdminApp, type AdminTestApp } from './admin.app.js';

type Mode = 'up' | 'fail' | 'hang';

/** A memory storage behind a switch: every call of every store delegates, rejects or never answers. */
function switchableStorage(): { storage: RampartStorage; setMode: (mode: Mode) => void } {
  const inner = memoryStorage();
  let mode: Mode = 'up';
  const wrap = <T extends object>(store: T): T =>
    new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (mode === 'fail') return Promise.reject(new Error('connection refused'));
          if (mode === 'hang') return new Promise(() => undefined);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const storage: RampartStorage = {
    rateLimits: wrap(inner.rateLimits),
    bans: wrap(inner.bans),
    violations: wrap(inner.violations),
    accessList: wrap(inner.accessList),
  };
  return { storage, setMode: (next) => void (mode = next) };
}

/** What a storage driver may say about its infrastructure: none of it belongs in an answer to a client. */
const STORAGE_ERROR = 'getaddrinfo ENOTFOUND mongo-primary.internal.example:27017 (user rampart_admin, replica set rs-prod)';

/** A memory storage whose ban listing fails with STORAGE_ERROR. */
function failingBanList(): RampartStorage {
  const inner = memoryStorage();
  const bans = new Proxy(inner.bans, {
    get: (target, property, receiver) => (property === 'list' ? () => Promise.reject(new Error(STORAGE_ERROR)) : Reflect.get(target, property, receiver)),
  });
  return { ...inner, bans };
}

const OPERATIONS: Array<{ name: string; send: (t: AdminTestApp) => ReturnType<ReturnType<AdminTestApp['http']>['get']> }> = [
  { name: 'GET /bans', send: (t) => t.http().get('/rate-limit/bans') },
  { name: 'POST /bans', send: (t) => t.http().post('/rate-limit/bans').send({ key: 'client-1', kind: 'permanent', reason: 'abuse' }) },
  { name: 'DELETE /bans', send: (t) => t.http().delete('/rate-limit/bans').query({ key: 'client-1' }) },
  { name: 'GET /clients/:key', send: (t) => t.http().get('/rate-limit/clients/client-1') },
  { name: 'GET /violations', send: (t) => t.http().get('/rate-limit/violations') },
  { name: 'GET /access-list', send: (t) => t.http().get('/rate-limit/access-list') },
  { name: 'POST /access-list', send: (t) => t.http().post('/rate-limit/access-list').send({ kind: 'deny', cidr: '198.51.100.0/24' }) },
  { name: 'DELETE /access-list', send: (t) => t.http().delete('/rate-limit/access-list').query({ kind: 'deny', cidr: '198.51.100.0/24' }) },
];

describe.each(ADAPTERS)('admin API while the storage is down, on %s', (adapter) => {
  let t: AdminTestApp;
  let setMode: (mode: Mode) => void;
  let errors: jest.SpyInstance;

  beforeEach(async () => {
    const switchable = switchableStorage();
    setMode = switchable.setMode;
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    t = await startAdminApp(adapter, { options: { storage: switchable.storage, storeTimeoutMs: 20 } });
  });
  afterEach(async () => {
    setMode('up');
    await t.close();
    errors.mockRestore();
  });

  it.each(OPERATIONS)('$name answers 503 with Retry-After and a problem body when the storage fails', async ({ name, send }) => {
    setMode('fail');
    const res = await send(t).set('Authorization', BEARER).expect(503).expect('retry-after', '5').expect('content-type', /json/);
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: "The rate-limit storage failed (its error is in the server's log). A change may or may not have been made: check with a GET, or retry in 5 s.",
    });
    const logged = errors.mock.calls.map(([message]) => String(message));
    expect(logged).toContainEqual(
      expect.stringMatching(new RegExp(`^Admin request ${name.split(' ')[0]} /rate-limit/\\S+ failed in the storage: connection refused\\. Answered 503\\.$`)),
    );
  });

  it.each(OPERATIONS)('$name answers 503 within 10 × storeTimeoutMs when the storage hangs', async ({ send }) => {
    setMode('hang');
    const startedAt = performance.now();
    const res = await send(t).set('Authorization', BEARER).expect(503).expect('retry-after', '5');
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(res.body.detail).toBe(
      'The rate-limit storage did not answer (timed out after 200 ms). A change may or may not have been made: check with a GET, or retry in 5 s.',
    );
  });

  it('still answers 401 without credentials and 400 for a bad body, without touching the storage', async () => {
    setMode('fail');
    await t.http().get('/rate-limit/bans').expect(401);
    await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ key: '', kind: 'forever' }).expect(400);
  });

  it('works again as soon as the storage answers', async () => {
    setMode('fail');
    await t.http().get('/rate-limit/bans').set('Authorization', BEARER).expect(503);
    setMode('up');
    await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ key: 'client-1', kind: 'permanent', reason: 'abuse' }).expect(201);
    const res = await t.http().get('/rate-limit/bans').set('Authorization', BEARER).expect(200);
    expect(res.body.items).toHaveLength(1);
  });
});

describe.each(ADAPTERS)('admin API 503 on %s', (adapter) => {
  let t: AdminTestApp;
  afterEach(() => t.close());

  it("answers a failing storage with 503 and a problem body that keeps the storage's error text to the logger", async () => {
    const logged: string[] = [];
    const logger: RampartLogger = { log: () => undefined, warn: () => undefined, error: (message) => void logged.push(message) };
    t = await startAdminApp(adapter, { options: { storage: failingBanList(), logger } });
    const res = await t
      .http()
      .get('/rate-limit/bans')
      .set('Authorization', BEARER)
      .expect(503)
      .expect('retry-after', '5')
      .expect('content-type', /^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'about:blank', title: 'Service Unavailable', status: 503 });
    expect(JSON.stringify(res.body)).not.toMatch(/ENOTFOUND|internal\.example|rampart_admin|rs-prod/);
    expect(res.body.detail).toMatch(/retry in 5 s/);
    expect(logged).toContainEqual(expect.stringContaining(STORAGE_ERROR));
  });
});
