/**
 * DDoS detection with the Mongo storage: two app instances on one database, as two servers of one
 * app behind a load balancer. The flood reaches one of them; its blocks are shared through the ban
 * store, so the other enforces them too.
 */
import { Rampart, RateLimitService } from '../../lib/index.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoConnections, mongoUrl } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { ADMIN_KEY, bot, BOTS, ddosModule, flood, from, STEADY } from './ddos.app.js';

const START = Date.UTC(2030, 0, 1);

describeMongo('DDoS detection with the Mongo storage', () => {
  const { dbName } = mongoConnections('ddos');

  describe.each(ADAPTERS)('on %s', (adapter) => {
    const running: TestApp[] = [];
    afterEach(async () => {
      while (running.length > 0) await running.pop()!.close();
    });

    async function instance(clock: FakeClock): Promise<TestApp> {
      // Each adapter's run a day after the other's: they share the database, not their blocks.
      const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock });
      const t = await startApp(adapter, ddosModule(clock, { storage }));
      await t.app.listen(0, '127.0.0.1');
      running.push(t);
      return t;
    }

    it('blocks the flooders of one instance on both, while the steady client keeps its access on both', async () => {
      const clock = new FakeClock(START + ADAPTERS.indexOf(adapter) * 86_400_000);
      const a = await instance(clock);
      const b = await instance(clock);
      // The flood reaches instance a; the steady client is served by both in turn.
      const steady = await flood(clock, a, [a, b]);
      expect(steady.every((s) => s === 200)).toBe(true);
      expect(a.app.get(Rampart).ddos!.snapshot()).toMatchObject({ attack: true, suspects: BOTS });
      // b saw no attack (the threshold is per instance), yet enforces a's blocks once it has synced.
      expect(b.app.get(Rampart).ddos!.snapshot()).toMatchObject({ attack: false, suspects: 0 });
      await b.app.get(RateLimitService).syncNow();
      for (let i = 0; i < BOTS; i++) {
        await from(a, bot(i), '/search').expect(429);
        await from(b, bot(i), '/search').expect(429).expect('retry-after', '1800');
      }
      await from(b, STEADY, '/search').expect(200);
      await from(a, STEADY, '/search').expect(200);
      // b's admin API lists them: they live in the shared ban store.
      const listed = await b.http().get('/rate-limit/bans?source=ddos&limit=100').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
      expect((listed.body.items as { key: string }[]).map((ban) => ban.key).sort()).toEqual(Array.from({ length: BOTS }, (_, i) => bot(i)).sort());
      // An operator lifts one on b; a lets that client in again after its sync.
      await b
        .http()
        .delete(`/rate-limit/bans?key=${bot(0)}`)
        .set('Authorization', `Bearer ${ADMIN_KEY}`)
        .expect(200);
      await a.app.get(RateLimitService).syncNow();
      await from(a, bot(0), '/search').expect(200);
      await from(a, bot(1), '/search').expect(429);
    }, 60_000);
  });
});
