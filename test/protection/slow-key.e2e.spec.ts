/**
 * One client must not switch limits off for everyone: a key whose store calls are slow or failing
 * gets its own outage answer, and the store is marked down only by the breaker's rule (the store
 * went silent, or failures within a window concern several keys). A client's burst beyond its
 * capacity is denied at once rather than queued behind itself.
 */
import mongoose, { type Connection } from 'mongoose';
import {
  MemoryRateLimitStore,
  type ConsumeResult,
  type RateLimitModuleOptions,
  type RateLimitStore,
  type StoreDownEvent,
  type StoreRule,
} from '../../lib/index.js';
import { Rampart } from '../../lib/engine/rampart.js';
import { resolveRateLimitConfig } from '../../lib/rate-limit.config.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { MongoRateLimitStore } from '../../lib/storage/mongo/mongo-rate-limit.store.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { problemsOf } from '../support/config-problems.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { quietNestLogs } from '../support/quiet-logs.js';
import { until } from '../support/until.js';
import { protectionModule } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);

/**
 * A real store whose calls for the keys of some clients are held until `release()` ('hang') or
 * rejected ('fail'); every other call goes straight to the store.
 */
class TroubledKeysStore implements RateLimitStore {
  readonly troubled = new Set<string>();
  mode: 'hang' | 'fail' = 'hang';
  calls = 0;
  private held: Array<() => void> = [];

  constructor(private readonly inner: RateLimitStore) {}

  private isTroubled(key: string): boolean {
    for (const client of this.troubled) if (key.endsWith(`:${client}`)) return true;
    return false;
  }

  consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult> {
    this.calls++;
    if (this.isTroubled(key)) {
      if (this.mode === 'fail') return Promise.reject(new Error(`write conflict on ${key}`));
      return new Promise<void>((resolve) => this.held.push(resolve)).then(() => this.inner.consume(key, rule, nowMs, cost));
    }
    return Promise.resolve(this.inner.consume(key, rule, nowMs, cost));
  }
  get(key: string, rule: StoreRule, nowMs: number): Promise<ConsumeResult | null> {
    return this.inner.get(key, rule, nowMs);
  }
  reset(key: string): Promise<void> {
    return this.inner.reset(key);
  }
  get heldCalls(): number {
    return this.held.length;
  }
  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

interface StoreKind {
  readonly name: string;
  create(): Promise<RateLimitStore>;
}

const memoryKind: StoreKind = { name: 'memory', create: () => Promise.resolve(new MemoryRateLimitStore()) };

function scenarios(kind: StoreKind) {
  describe.each(ADAPTERS)(`on %s, ${kind.name} store`, (adapter) => {
    let t: TestApp;
    let store: TroubledKeysStore;
    let down: StoreDownEvent[];
    let spies: jest.SpyInstance[];
    beforeEach(async () => {
      store = new TroubledKeysStore(await kind.create());
      down = [];
      spies = quietNestLogs();
    });
    afterEach(async () => {
      store.release();
      await t.close();
      for (const spy of spies) spy.mockRestore();
    });

    const start = (options: RateLimitModuleOptions = {}) =>
      startApp(
        adapter,
        protectionModule({
          clock: new FakeClock(START),
          store,
          storage: memoryStorage(),
          escalation: false,
          // Long enough for another client's request (or the check of a failed call) to be answered
          // while a slow one waits, on a busy machine.
          storeTimeoutMs: 400,
          // Without the fallback store, a store marked down would admit everyone (onStoreError 'allow').
          storeFallback: false,
          events: { onStoreDown: (e) => void down.push(e) },
          ...options,
        }),
      );
    const from = (client: string) => t.http().get('/data').set('X-Forwarded-For', client);

    it("a slow client's timed-out call is answered by its own policy; other clients stay limited by the shared store", async () => {
      t = await start();
      const LIMITED = '198.51.100.1';
      const AT_LIMIT = '198.51.100.2';
      const FRESH = '198.51.100.3';
      const COUNTED = '198.51.100.4';
      const SLOW = '198.51.100.66';
      await from(LIMITED).expect(200);
      await from(LIMITED).expect(200);
      await from(LIMITED).expect(429);
      await from(AT_LIMIT).expect(200);
      await from(AT_LIMIT).expect(200);

      store.troubled.add(SLOW);
      const slow = from(SLOW).then((r) => r);
      await until(() => store.heldCalls === 1);
      await from(FRESH).expect(200); // another client's call succeeds while it waits
      const res = await slow;
      expect(res.status).toBe(200); // timed out: its own answer, onStoreError 'allow', uncounted
      expect(res.headers['ratelimit']).toBeUndefined();

      const others = [await from(LIMITED), await from(AT_LIMIT)];
      expect(others.map((r) => r.status)).toEqual([429, 429]);
      expect(others.every((r) => r.headers['retry-after'] === '60')).toBe(true);
      await from(FRESH).expect(200).expect('ratelimit', /;r=0;/); // still counted by the shared store
      await from(FRESH).expect(429);
      await from(COUNTED).expect(200).expect('ratelimit', /;r=1;/);
      expect(down).toEqual([]);
      const { health } = t.app.get(Rampart);
      expect(health.isDown).toBe(false);
      expect(health.keyFailures).toBe(1);

      // Its call still in flight holds half its capacity: one more waits for the store, the next is denied at once.
      const second = from(SLOW).then((r) => r);
      await until(() => store.heldCalls === 2);
      await from(SLOW).expect(429);
      store.release();
      expect((await second).status).toBe(200);
    });

    it('one client failing on many keys (three rules, two routes) is still one client: the store stays up for the others', async () => {
      t = await start({
        rules: [
          { name: 'a', limit: 5, windowMs: 60_000, algorithm: 'fixed-window' },
          { name: 'b', limit: 5, windowMs: 60_000, algorithm: 'fixed-window' },
          { name: 'c', limit: 5, windowMs: 60_000, algorithm: 'fixed-window' },
        ],
      });
      store.mode = 'fail';
      const FAILING = '198.51.100.20';
      store.troubled.add(FAILING);
      // Ten failed calls on seven keys (three rules on /data, four on /api), all of one client.
      await from(FAILING).expect(200);
      await t.http().get('/api').set('X-Forwarded-For', FAILING).expect(200);
      await from(FAILING).expect(200);
      expect(t.app.get(Rampart).health.keyFailures).toBe(10);
      expect(down).toEqual([]);
      const OTHER = '198.51.100.21';
      for (let i = 0; i < 5; i++) await from(OTHER).expect(200);
      await from(OTHER).expect(429); // still counted by the shared store
    });

    it('a store failing for several clients while it answers others is marked down (5 failures for 3 clients within 10 s)', async () => {
      t = await start();
      store.mode = 'fail';
      const failing = ['198.51.100.10', '198.51.100.11', '198.51.100.12'];
      for (const client of failing) store.troubled.add(client);
      const order = [failing[0], failing[0], failing[0], failing[1], failing[2]];
      for (let i = 0; i < order.length; i++) {
        await from(order[i]).expect(200);
        expect(down).toHaveLength(i === order.length - 1 ? 1 : 0);
      }
      expect(down[0]!.reason).toBe(`write conflict on default:ProtectedController.data:${failing[2]}`);
    });
  });
}

describe('one slow or failing key', () => {
  scenarios(memoryKind);

  describe('a burst of one client beyond its capacity', () => {
    let t: TestApp;
    let store: TroubledKeysStore;
    afterEach(async () => {
      store.release();
      await t.close();
    });

    it.each(ADAPTERS)('on %s: sliding-log decisions waiting beyond the limit are denied at once, the rest decided by the store', async (adapter) => {
      store = new TroubledKeysStore(new MemoryRateLimitStore());
      t = await startApp(
        adapter,
        protectionModule({
          clock: new FakeClock(START),
          store,
          storage: memoryStorage(),
          escalation: false,
          storeTimeoutMs: 5_000,
          rules: [{ limit: 3, windowMs: 60_000, algorithm: 'sliding-log' }],
        }),
      );
      const CLIENT = '198.51.100.7';
      store.troubled.add(CLIENT);
      const statuses: number[] = [];
      const all = Array.from({ length: 8 }, () =>
        t
          .http()
          .get('/data')
          .set('X-Forwarded-For', CLIENT)
          .then((r) => {
            statuses.push(r.status);
            return r;
          }),
      );
      // Three wait for the store (the limit); the five beyond it are answered without waiting.
      await until(() => statuses.length === 5 && store.heldCalls === 3);
      expect(statuses).toEqual([429, 429, 429, 429, 429]);
      store.release();
      await Promise.all(all);
      expect(statuses.filter((s) => s === 200)).toHaveLength(3);
      expect(store.calls).toBe(3);
    });
  });
});

describeMongo('one slow or failing key, MongoDB store', () => {
  const dbName = uniqueDbName('slow_key');
  const connections: Connection[] = [];
  afterAll(async () => {
    await connections[0]?.dropDatabase();
    await Promise.all(connections.map((c) => c.close()));
  });
  scenarios({
    name: 'MongoDB',
    create: async () => {
      const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
      connections.push(connection);
      const store = new MongoRateLimitStore(connection, { collectionName: `limits_${connections.length}` });
      await store.init();
      return store;
    },
  });
});

describe('storeBreaker option', () => {
  it('fills in the defaults around the settings given', () => {
    expect(resolveRateLimitConfig({ storeBreaker: { clients: 2 } }).storeBreaker).toEqual({ windowMs: 10_000, failures: 5, clients: 2 });
  });

  it('reports bad settings at startup, with the other problems', () => {
    expect(problemsOf({ storeBreaker: 'often' as never, denialCacheSize: -1 })).toEqual([
      'storeBreaker must be an object such as { windowMs: 10000, failures: 5, clients: 3 } (mark the store down when 5 calls within 10 s failed for 3 clients or more), got "often".',
      'denialCacheSize must be an integer of 0 or more, got -1.',
    ]);
    expect(problemsOf({ storeBreaker: { windowMs: 0, failures: 2.5, key: 1 } as never })).toEqual([
      'storeBreaker.key is not an option; the options are windowMs, failures, clients.',
      'storeBreaker.windowMs must be a positive integer, got 0.',
      'storeBreaker.failures must be a positive integer, got 2.5.',
    ]);
    expect(problemsOf({ storeBreaker: { failures: 2, clients: 3 } })).toEqual([
      'storeBreaker.clients (3) is more than storeBreaker.failures (2): 2 failures can never concern 3 clients, so the store would only be marked down when it goes silent. Lower clients or raise failures.',
    ]);
  });
});
