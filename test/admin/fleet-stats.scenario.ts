import type { RampartStorage } from '../../lib/storage/rampart-storage.interface.js';
import { Rampart } from '../../lib/engine/rampart.js';
import { FakeClock } from '../support/fake-clock.js';
import type { AdminTestApp } from './admin.app.js';
import { getStats, startStatsApp, traffic } from './admin-stats.app.js';

const T0 = Date.UTC(2030, 0, 1);
const A = '203.0.113.1';
const B = '203.0.113.2';

/**
 * Fleet-wide statistics on a shared storage: two instances of an app (an Express one and a Fastify
 * one), each with a storage of its own over the same data (`storage()`); each writes its summary,
 * and the stats API of either sums both.
 */
export function fleetStatsScenario(storage: () => RampartStorage): void {
  it('sums both instances exactly on either, gives each its share, and keeps a stopped instance until its summary expires', async () => {
    const clock = new FakeClock(T0 + 1_000);
    const apps: AdminTestApp[] = [];
    const boot = async (adapter: 'express' | 'fastify') => {
      // A store call waits up to 5 s (not 0.5 s), so that a slow test machine never turns a block into a plain refusal.
      const app = await startStatsApp(adapter, { storage: storage(), clock, storeTimeoutMs: 5_000 });
      apps.push(app);
      return app;
    };
    const rampart = (t: AdminTestApp) => t.app.get(Rampart) as Rampart;
    try {
      const first = await boot('express');
      const second = await boot('fastify');
      const [one, two] = [rampart(first).stats!.instance, rampart(second).stats!.instance];
      expect(one).not.toBe(two);

      // The counters are shared: A's third request is over the limit on the first instance (a first
      // violation); its next, on the second, is its second violation, which blocks it there.
      expect(await traffic(first, '/api', A, 3)).toEqual([200, 200, 429]);
      expect(await traffic(second, '/api', A, 2)).toEqual([429, 429]);
      expect(await traffic(second, '/api', B, 1)).toEqual([200]);
      clock.set(T0 + 4_000);
      expect(await rampart(first).reporter!.flush()).toBe(true);
      expect(await rampart(second).reporter!.flush()).toBe(true);

      const fleet = {
        fleet: true,
        requests: 6,
        admitted: 3,
        limited: 1,
        blocked: 2,
        banned: 0,
        unavailable: 0,
        blockRate: 0.5,
        violations: 2,
        violationsPerMinute: (2 * 60_000) / 64_000, // over the 64 s counted: from T0 - 60 s to T0 + 4 s
        blocksMade: 1,
        bansMade: 0,
        shadow: { limited: 0, blocked: 0, banned: 0, violations: 0 },
        topRules: [{ rule: 'per-minute', requests: 5, refused: 2, nearLimit: 1 }],
        topKeys: [{ key: A, refusals: 3 }],
        instances: [
          { instance: one, requests: 3, refused: 1 },
          { instance: two, requests: 3, refused: 2 },
        ].sort((a, b) => a.instance.localeCompare(b.instance)),
      };
      for (const t of [first, second]) {
        const body = (await getStats(t).expect(200)).body;
        expect(body).toMatchObject({ ...fleet, instances: fleet.instances.map((i) => expect.objectContaining(i)) });
        expect(body.recentViolations).toEqual([
          expect.objectContaining({ key: A, rule: 'per-minute', at: new Date(T0 + 1_000).toISOString() }),
          expect.objectContaining({ key: A, rule: 'per-minute', at: new Date(T0 + 1_000).toISOString() }),
        ]);
      }

      // Each instance's share, asked of either: [instance, requests, admitted, limited, blocked, blocksMade, A's refusals, rule requests, rule refusals, near-limit].
      const shares = [
        [one, 3, 2, 1, 0, 0, 1, 3, 1, 1],
        [two, 3, 1, 0, 2, 1, 2, 2, 1, 0],
      ] as const;
      for (const t of [first, second]) {
        for (const [instance, requests, admitted, limited, blocked, blocksMade, refusals, counted, refused, nearLimit] of shares) {
          expect((await getStats(t, { instance }).expect(200)).body).toMatchObject({
            instance,
            requests,
            admitted,
            limited,
            blocked,
            violations: 1,
            blocksMade,
            topKeys: [{ key: A, refusals }],
            topRules: [{ rule: 'per-minute', requests: counted, refused, nearLimit }],
          });
        }
      }

      // The first stops (writing a last summary): the second still counts it, until its summary expires.
      await first.close();
      expect((await getStats(second).expect(200)).body).toMatchObject({ requests: 6, instances: [expect.anything(), expect.anything()] });
      clock.set(T0 + 4_000 + 900_000);
      const late = (await getStats(second).expect(200)).body;
      expect(late).toMatchObject({ requests: 0, instances: [{ instance: two }] });
      await getStats(second, { instance: one }).expect(404);
    } finally {
      for (const app of apps) await app.close().catch(() => undefined);
    }
  });
}
