/**
 * An adaptive client over real HTTP: it learns a steady baseline, bursts (the anomaly and its
 * refusals tighten its limit at once, below the base limit), is held to the tighter limit, and
 * recovers after an interval of good behaviour. On the memory store and on MongoDB, Express and
 * Fastify, and on Redis (Express); a second instance on the same storage reads the client's state
 * from the store.
 * Every figure is worked out in the comments (see adaptive-math.spec.ts for the formulas).
 */
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import mongoose, { type Connection } from 'mongoose';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { mongoStorage } from '../../lib/storage/mongo/index.js';
import { redisStorage } from '../../lib/storage/redis/redis-storage.js';
import type { RampartStorage } from '../../lib/storage/rampart-storage.interface.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { describeRedis, redisClients } from '../harness/redis.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, type AdapterName, type TestApp } from '../support/http-app.js';
import { ADMIN_KEY, startAdaptiveApp } from './adaptive.app.js';

const START = Date.UTC(2030, 0, 1);
const CLIENT = '203.0.113.7';

/** The scenario on `adapter` over storages from `storage` (one per instance, sharing their data). */
function scenario(adapter: AdapterName, storage: () => Promise<RampartStorage>): void {
  const clock = new FakeClock(START);
  let app: TestApp;
  let peer: TestApp | undefined;
  beforeAll(async () => {
    app = await startAdaptiveApp(adapter, clock, await storage());
  }, 20_000);
  afterAll(async () => {
    await app.close();
    await peer?.close();
  });

  /** Sends `n` requests of the client at the clock's time; answers how many were admitted. */
  async function burst(n: number): Promise<number> {
    let admitted = 0;
    for (let i = 0; i < n; i++) {
      const res = await app.http().get('/data').set('X-Forwarded-For', CLIENT);
      expect([200, 429]).toContain(res.status);
      if (res.status === 200) admitted++;
    }
    return admitted;
  }
  const at = (interval: number) => clock.set(START + interval * 1_000 + 100);
  const view = async (t: TestApp) => {
    const res = await t.http().get(`/rate-limit/clients/${CLIENT}`).set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    return (res.body as { adaptive?: Record<string, unknown>[] }).adaptive;
  };

  /** What in an adaptive view the OpenAPI document does not say: a field missing, unknown, or of another type. */
  function documented(view: Record<string, unknown>): string[] {
    const document = SwaggerModule.createDocument(app.app, new DocumentBuilder().build());
    const schema = (document.components!.schemas as Record<string, { properties: Record<string, { type: string }>; required: string[] }>).AdminAdaptiveView!;
    const kind = (v: unknown) => (Number.isInteger(v) ? ['integer', 'number'] : [typeof v]);
    const problems = schema.required.filter((name) => !(name in view)).map((name) => `missing ${name}`);
    for (const [name, value] of Object.entries(view)) {
      const property = schema.properties[name];
      if (!property) problems.push(`unknown ${name}`);
      else if (!kind(value).includes(property.type)) problems.push(`${name}: ${typeof value} is not ${property.type}`);
    }
    return problems;
  }

  it('tightens the limit of a client during a burst, and gives it back after good behaviour', async () => {
    // Intervals 0-2: 4 requests each. Baseline μ = 4, σ = 0; trust 0.5 → 0.75 → 0.875 (the limit
    // stays 10: ⌊10 × t / 0.5⌋ is above the max, which is the base limit).
    for (const interval of [0, 1, 2]) {
      at(interval);
      expect(await burst(4)).toBe(4);
    }
    // Interval 3 opens with t = 0.9375. The anomaly line is μ + 2·max(σ, 1) = 6: the 7th request is
    // an anomaly, t = 0.46875, limit ⌊9.375⌋ = 9; the 10th is refused, t = 0.234375, limit ⌊4.6875⌋ = 4.
    at(3);
    expect(await burst(12)).toBe(9);
    expect(await view(app)).toEqual([
      expect.objectContaining({ rule: 'api', route: 'DataController.data', baseline: 4, deviation: 0, zScore: 0, currentZScore: 8, trust: 0.234375 }),
    ]);
    expect((await view(app))![0]).toMatchObject({ effectiveLimit: 4, baseLimit: 10, requestsInInterval: 12, samples: 3, anomaly: true, refused: true });
    expect(documented((await view(app))![0]!)).toEqual([]);

    // Interval 4: the burst is folded (x = 12, d = 8, z = 8, μ = 8, σ² = 0.5·(0 + 0.5·64) = 16), no
    // trust regained. The limit is 4 where the base limit would admit 10: the 5th request is refused
    // (t = 0.1171875, limit 2).
    at(4);
    expect(await burst(5)).toBe(4);
    expect((await view(app))![0]).toMatchObject({ baseline: 8, deviation: 4, zScore: 8, trust: 0.1171875, effectiveLimit: 2 });

    // Interval 5: the client keeps to its limit of 2, and its headers advertise that limit.
    at(5);
    expect(await burst(1)).toBe(1);
    const second = await app.http().get('/data').set('X-Forwarded-For', CLIENT).expect(200);
    expect(second.headers['ratelimit-policy']).toBe('"api";q=2;w=1');
    // Interval 6: a good interval closed, t = 0.1171875 + 0.5·0.8828125 = 0.55859375: the limit is
    // back to 10 (⌊11.17⌋, clamped to the base limit). μ = 6.5 then 4.25, σ² = 10.25 then 10.1875:
    // 10 requests stay under the anomaly line 4.25 + 2·3.19 = 10.63, and are all admitted.
    at(6);
    expect(await burst(9)).toBe(9);
    const tenth = await app.http().get('/data').set('X-Forwarded-For', CLIENT).expect(200);
    expect(tenth.headers['ratelimit-policy']).toBe('"api";q=10;w=1');
    expect((await view(app))![0]).toMatchObject({ baseline: 4.25, variance: 10.1875, trust: 0.55859375, effectiveLimit: 10, anomaly: false, refused: false });
  }, 20_000);

  it('keeps the state with the client in the store: a second instance reads it', async () => {
    // The state written when interval 6 opened (interval 5 folded): μ = 4.25, σ² = 10.1875, t = 0.55859375.
    peer = await startAdaptiveApp(adapter, clock, await storage());
    // The write is off the request path: wait (on the wall clock, a few seconds at most) for it to land.
    const deadline = performance.now() + 5_000;
    let seen = await view(peer);
    while (seen?.[0]?.['samples'] !== 6 && performance.now() < deadline) seen = await view(peer);
    expect(seen![0]).toMatchObject({ baseline: 4.25, variance: 10.1875, trust: 0.55859375, effectiveLimit: 10, samples: 6 });
  }, 20_000);
}

describe.each(ADAPTERS)('adaptive limits on the memory store (%s)', (adapter) => {
  const shared = memoryStorage();
  scenario(adapter, () => Promise.resolve(shared));
});

describeMongo('adaptive limits on MongoDB', () => {
  const connections: Connection[] = [];
  afterAll(async () => {
    for (const connection of connections) await connection.dropDatabase();
    await Promise.all(connections.map((c) => c.close()));
  });
  describe.each(ADAPTERS)('%s', (adapter) => {
    // A database per adapter; each instance its own connection to it.
    const dbName = uniqueDbName(`adaptive_${adapter}`);
    scenario(adapter, async () => {
      const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
      connections.push(connection);
      return mongoStorage({ connection, sweepIntervalMs: false });
    });
  });
});

describeRedis('adaptive limits on Redis', () => {
  const redis = redisClients('adaptive-e2e');
  // Each instance its own client, on the same keys.
  scenario('express', () => Promise.resolve(redisStorage({ client: redis.connect(), prefix: `${redis.prefix}a:` })));
});
