import { mongoStorage } from '../../../lib/storage/mongo/mongo-storage.js';
import { redisStorage } from '../../../lib/storage/redis/redis-storage.js';
import { mongoConnections, mongoUnavailableReason, mongoUrl } from '../../harness/mongo.js';
import { redisClients, redisUnavailableReason, redisUrl } from '../../harness/redis.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { dynamicModule, PlanDb } from './dynamic.app.js';

const START = Date.UTC(2030, 0, 1);
const STORAGES = ['memory', 'mongo', 'redis'] as const;
const { dbName } = mongoConnections('dynamic_limits');
const redis = redisClients('dynamic-limits');
/** Runs so far: each starts a week after the last, as runs on MongoDB share the database. */
let runs = 0;

describe.each(ADAPTERS)('dynamic limits over HTTP on %s', (adapter) => {
  describe.each(STORAGES)('on the %s storage', (storage) => {
    let clock: FakeClock;
    let db: PlanDb;
    let t: TestApp | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    /** A fresh app with a fresh plan database. */
    const start = async (ttlMs?: number) => {
      // Without the database, these fail with the reason and the fix.
      if (storage === 'mongo' && mongoUnavailableReason() !== undefined) mongoUrl();
      if (storage === 'redis' && redisUnavailableReason() !== undefined) redisUrl();
      clock = new FakeClock(START + ++runs * 7 * 24 * 3_600_000);
      db = new PlanDb();
      const store =
        storage === 'mongo'
          ? { storage: mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock }) }
          : storage === 'redis'
            ? { storage: redisStorage({ client: redis.connect(), prefix: redis.prefix }) }
            : {};
      t = await startApp(adapter, dynamicModule(clock, db, { ...store, ...(ttlMs !== undefined ? { ttlMs } : {}) }));
      return t;
    };
    const get = (path: string, key: string) => (t as TestApp).http().get(path).set('x-api-key', key);

    it('gives two API keys on different plans their own limits, looked up once per request, advertised in the headers', async () => {
      await start();
      for (let i = 0; i < 5; i++) {
        const res = await get('/data', 'key-pro').expect(200);
        expect(res.headers['ratelimit-policy']).toBe('"plan";q=5;w=10');
        expect(res.headers['ratelimit']).toBe(`"plan";r=${4 - i};t=10`);
      }
      const refused = await get('/data', 'key-pro').expect(429);
      expect(refused.body).toMatchObject({ rule: 'plan', limit: 5, windowMs: 10_000, retryAfterSeconds: 10 });
      for (let i = 0; i < 2; i++) expect((await get('/data', 'key-free').expect(200)).headers['ratelimit-policy']).toBe('"plan";q=2;w=60');
      expect((await get('/data', 'key-free').expect(429)).headers['ratelimit']).toBe('"plan";r=0;t=60');
      expect(db.lookups).toEqual([...Array(6).fill('key-pro'), ...Array(3).fill('key-free')]);
      clock.advance(10_000);
      await get('/data', 'key-pro').expect(200);
      await get('/data', 'key-free').expect(429);
    });

    it('counts a key whose plan reads as NaN by the fallback (1 a minute), never unlimited', async () => {
      await start();
      expect((await get('/data', 'key-broken').expect(200)).headers['ratelimit-policy']).toBe('"plan";q=1;w=60');
      await get('/data', 'key-broken').expect(429);
      clock.advance(59_999);
      await get('/data', 'key-broken').expect(429);
    });

    it('looks a key up once per cache TTL on the clock, and again once the TTL is over', async () => {
      await start(30_000);
      for (let i = 0; i < 5; i++) await get('/data', 'key-pro').expect(200);
      await get('/data', 'key-pro').expect(429);
      await get('/data', 'key-free').expect(200);
      expect(db.lookups).toEqual(['key-pro', 'key-free']);
      clock.advance(29_999);
      await get('/data', 'key-free').expect(200);
      expect(db.lookups).toEqual(['key-pro', 'key-free']);
      clock.advance(1);
      await get('/data', 'key-free').expect(429);
      expect(db.lookups).toEqual(['key-pro', 'key-free', 'key-free']);
    });

    // How rules merge over a dynamic rule does not depend on the store: on memory only.
    if (storage === 'memory') {
      it('takes per-field functions from @Throttle and from a route entry in code', async () => {
        await start();
        for (let i = 0; i < 4; i++) expect((await get('/per-field', 'key-pro').expect(200)).headers['ratelimit-policy']).toBe('"plan";q=4;w=60');
        await get('/per-field', 'key-pro').expect(429);
        await get('/per-field', 'key-free').expect(200);
        await get('/per-field', 'key-free').expect(429);
        expect((await get('/routed', 'key-pro').expect(200)).headers['ratelimit-policy']).toBe('"plan";q=1;w=1');
        await get('/routed', 'key-pro').expect(429);
        clock.advance(1_000);
        await get('/routed', 'key-pro').expect(200);
        expect((await get('/routed', 'key-free').expect(200)).headers['ratelimit-policy']).toBe('"plan";q=1;w=60');
        await get('/routed', 'key-free').expect(429);
        // Neither looked the plan up: their rules dropped the module rule's `limits`.
        expect(db.lookups).toEqual([]);
      });

      it("pins the limit a @Throttle gives as a number over the module rule's `limits`, the plan giving the window", async () => {
        await start();
        for (let i = 0; i < 3; i++) expect((await get('/pinned', 'key-pro').expect(200)).headers['ratelimit-policy']).toBe('"plan";q=3;w=10');
        await get('/pinned', 'key-pro').expect(429);
        clock.advance(10_000);
        await get('/pinned', 'key-pro').expect(200);
        for (let i = 0; i < 3; i++) expect((await get('/pinned', 'key-free').expect(200)).headers['ratelimit-policy']).toBe('"plan";q=3;w=60');
        await get('/pinned', 'key-free').expect(429);
        expect(db.lookups).toEqual([...Array(5).fill('key-pro'), ...Array(4).fill('key-free')]);
      });
    }
  });
});
