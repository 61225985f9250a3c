/**
 * Escalation and propagation with the Mongo storage: two app instances, each with its own
 * connection to one database, as two servers of one app would run.
 */
import mongoose from 'mongoose';
import { RateLimitService } from '../../lib/index.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { protectionModule } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const CLIENT = '203.0.113.7';

describeMongo('protection with the Mongo storage', () => {
  const dbName = uniqueDbName('protection');
  let weeks = 0;

  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  describe.each(ADAPTERS)('on %s', (adapter) => {
    let clock: FakeClock;
    const running: TestApp[] = [];

    async function instance(): Promise<{ t: TestApp; protection: RateLimitService }> {
      const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock });
      const t = await startApp(adapter, protectionModule({ clock, storage }));
      running.push(t);
      return { t, protection: t.app.get(RateLimitService) };
    }

    beforeEach(() => {
      // Each test a week after the last (they share the database): nothing of one counts in the next.
      clock = new FakeClock(START + ++weeks * 7 * 24 * 60 * MINUTE);
    });
    afterEach(async () => {
      while (running.length > 0) await running.pop()!.close();
    });

    const on = (t: TestApp, client: string) => t.http().get('/data').set('X-Forwarded-For', client);

    it('escalates violations made on two instances into one block that both enforce', async () => {
      // The block count lives in the shared database: one client per adapter.
      const client = `198.51.100.${ADAPTERS.indexOf(adapter) + 1}`;
      const a = await instance();
      const b = await instance();
      await on(a.t, client).expect(200);
      await on(b.t, client).expect(200);
      await on(a.t, client).expect(429);
      await on(b.t, client).expect(429);
      await on(a.t, client).expect(429).expect('retry-after', '900');
      await b.protection.syncNow();
      await on(b.t, client).expect(429).expect('retry-after', '900');

      // After the block, the next one is twice as long, wherever the violations land.
      clock.advance(15 * MINUTE);
      await on(b.t, client).expect(200);
      await on(a.t, client).expect(200);
      await on(b.t, client).expect(429);
      await on(a.t, client).expect(429);
      await on(b.t, client).expect(429).expect('retry-after', '1800');
      expect((await a.protection.status(client)).ban).toMatchObject({ blockCount: 2, source: 'auto' });
    });

    it('propagates bans, unbans and list entries, and loads them at startup', async () => {
      const a = await instance();
      const b = await instance();
      await a.protection.ban({ type: 'key', key: CLIENT }, 'permanent', undefined, 'abuse', 'alice');
      await a.protection.putAccessEntry('deny', '2001:db8:bad::/48', 'alice');
      await on(b.t, CLIENT).expect(200);
      await b.protection.syncNow();
      await on(b.t, CLIENT).expect(403);
      await on(b.t, '2001:db8:bad::1').expect(403);

      // A new instance knows them from its first request.
      const c = await instance();
      await on(c.t, CLIENT).expect(403);
      await on(c.t, '2001:db8:bad::1').expect(403);

      await b.protection.unban({ type: 'key', key: CLIENT }, 'bob');
      await a.protection.syncNow();
      await c.protection.syncNow();
      clock.advance(MINUTE);
      await on(a.t, CLIENT).expect(200);
      await on(c.t, CLIENT).expect(200);
      expect(await a.protection.removeAccessEntry('deny', '2001:db8:bad::/48')).toBe(true);
      await c.protection.syncNow();
      await on(c.t, '2001:db8:bad::1').expect(200);
    });
  });
});
