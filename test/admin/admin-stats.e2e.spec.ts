import { Rampart } from '../../lib/engine/rampart.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { ADAPTERS } from '../support/http-app.js';
import { BEARER, type AdminTestApp } from './admin.app.js';
import { getStats, startStatsApp, traffic } from './admin-stats.app.js';

const T0 = Date.UTC(2030, 0, 1);
const A = '203.0.113.1';
const B = '203.0.113.2';
const C = '203.0.113.3';
const D = '203.0.113.4';
const E = '203.0.113.5';

describe.each(ADAPTERS)('GET /rate-limit/stats on %s (memory storage)', (adapter) => {
  let t: AdminTestApp;

  beforeAll(async () => {
    t = await startStatsApp(adapter);
    t.clock.set(T0 + 1_000);
    // A: two admissions, the second at the limit (near it).
    expect(await traffic(t, '/api', A, 2)).toEqual([200, 200]);
    // B: two admissions, a refusal (first violation), a refusal that blocks it (second violation), one refused by the block.
    expect(await traffic(t, '/api', B, 5)).toEqual([200, 200, 429, 429, 429]);
    // C: banned by an operator, then refused twice.
    await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ key: C, kind: 'permanent', reason: 'abuse' }).expect(201);
    expect(await traffic(t, '/api', C, 2)).toEqual([403, 403]);
    // D: a shadow rule's would-be refusals (a limit, a block by its second violation, one the shadow block would refuse): admitted all the same.
    expect(await traffic(t, '/beta', D, 4)).toEqual([200, 200, 200, 200]);
    // 30 s later, in another bucket: one admission.
    t.clock.set(T0 + 31_000);
    expect(await traffic(t, '/api', E, 1)).toEqual([200]);
    t.clock.set(T0 + 35_000);
  });
  afterAll(() => t.close());

  it('matches the traffic exactly over the last minute (the default window)', async () => {
    const response = await getStats(t).expect(200);
    const instance = (t.app.get(Rampart) as Rampart).stats!.instance;
    expect(response.body).toEqual({
      fleet: true,
      windowMs: 60_000,
      from: new Date(T0 - 30_000).toISOString(),
      to: new Date(T0 + 35_000).toISOString(),
      requests: 14,
      admitted: 9,
      limited: 1,
      blocked: 2,
      banned: 2,
      unavailable: 0,
      blockRate: 5 / 14,
      violations: 2,
      // Over the 65 s counted (from T0 - 30 s to T0 + 35 s), not the 60 s asked for.
      violationsPerMinute: (2 * 60_000) / 65_000,
      // B's block and C's ban; D's shadow block is not one made (its refusals are in shadow.blocked).
      blocksMade: 1,
      bansMade: 1,
      shadow: { limited: 1, blocked: 2, banned: 0, violations: 2 },
      topRules: [
        { rule: 'per-minute', requests: 7, refused: 2, nearLimit: 2 },
        { rule: 'beta', requests: 3, refused: 2, nearLimit: 1 },
      ],
      topKeys: [
        { key: B, refusals: 3 },
        { key: D, refusals: 3 },
        { key: C, refusals: 2 },
      ],
      instances: [
        {
          instance,
          host: expect.any(String),
          pid: process.pid,
          startedAt: expect.any(String),
          reportedAt: new Date(T0 + 35_000).toISOString(),
          requests: 14,
          refused: 5,
        },
      ],
      recentViolations: [
        expect.objectContaining({ key: `shadow:${D}`, rule: 'beta', route: 'StatsTrafficController.beta', hits: 2, limit: 1 }),
        expect.objectContaining({ key: `shadow:${D}`, rule: 'beta', route: 'StatsTrafficController.beta', hits: 2, limit: 1 }),
        expect.objectContaining({ key: B, rule: 'per-minute', route: 'StatsTrafficController.api', hits: 3, limit: 2 }),
        expect.objectContaining({ key: B, rule: 'per-minute', route: 'StatsTrafficController.api', hits: 3, limit: 2 }),
      ],
    });
    expect(response.body.recentViolations.map((v: { at: string }) => v.at)).toEqual(Array(4).fill(new Date(T0 + 1_000).toISOString()));
  });

  it('counts whole buckets: windowMs excludes a bucket that ended at or before the window start, exactly', async () => {
    // now - 25 000 = T0 + 10 000, where the first bucket ends: only the later one counts.
    const later = (await getStats(t, { windowMs: 25_000 }).expect(200)).body;
    expect(later).toMatchObject({ from: new Date(T0 + 10_000).toISOString(), requests: 1, admitted: 1, limited: 0, violations: 0, blocksMade: 0, bansMade: 0 });
    expect(later).toMatchObject({ topKeys: [], recentViolations: [], topRules: [{ rule: 'per-minute', requests: 1, refused: 0, nearLimit: 0 }] });
    expect(later.violationsPerMinute).toBe(0);
    // One millisecond longer reaches into the first bucket, which counts whole.
    const reaching = (await getStats(t, { windowMs: 25_001 }).expect(200)).body;
    expect(reaching).toMatchObject({ from: new Date(T0).toISOString(), requests: 14, violations: 2 });
    // The rate is over the 35 s counted (T0 to T0 + 35 s), not the 25 001 ms asked for.
    expect(reaching.violationsPerMinute).toBe((2 * 60_000) / 35_000);
  });

  it("gives one instance's figures with instance=, and a 404 problem for an instance that never reported", async () => {
    const instance = (t.app.get(Rampart) as Rampart).stats!.instance;
    const own = (await getStats(t, { instance }).expect(200)).body;
    expect(own).toMatchObject({ fleet: true, instance, requests: 14, limited: 1 });
    const unknown = await getStats(t, { instance: 'elsewhere:1:00' }).expect(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.body.detail).toMatch(/No instance "elsewhere:1:00" has reported statistics/);
  });

  it.each([
    ['999', /windowMs must not be less than 1000/],
    ['900001', /windowMs must be at most 900000 \(stats\.retentionMs/],
    ['1.5', /windowMs must be an integer/],
    ['soon', /windowMs must be an integer/],
  ])('refuses windowMs=%s with a 400 problem listing the problem', async (windowMs, problem) => {
    const response = await getStats(t, { windowMs }).expect(400);
    expect(response.body).toMatchObject({ status: 400, errors: [expect.stringMatching(problem)] });
  });

  it('refuses an instance with control characters, unknown parameters, and requests without credentials', async () => {
    expect((await getStats(t, { instance: 'a\u0001b' }).expect(400)).body.errors).toEqual([expect.stringMatching(/instance must be an instance name/)]);
    expect((await getStats(t, { window: 5 }).expect(400)).body.errors).toEqual(['property window should not exist']);
    await t.http().get('/rate-limit/stats').expect(401);
  });
});

describe('GET /rate-limit/stats without statistics in the storage, and with statistics off', () => {
  it('answers for this instance alone (fleet: false) when the storage keeps no statistics', async () => {
    const { stats: _none, ...storage } = memoryStorage();
    const t = await startStatsApp('express', { storage });
    try {
      t.clock.set(T0);
      await traffic(t, '/api', A, 3);
      expect((await getStats(t).expect(200)).body).toMatchObject({ fleet: false, requests: 3, limited: 1, instances: [expect.any(Object)] });
    } finally {
      await t.close();
    }
  });

  it('answers a 404 problem saying how to turn them on with stats: false', async () => {
    const t = await startStatsApp('fastify', { stats: false });
    try {
      const response = await getStats(t).expect(404);
      expect(response.body.detail).toMatch(/Statistics are off \(stats: false.*Remove stats: false/);
    } finally {
      await t.close();
    }
  });
});
