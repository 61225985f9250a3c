/**
 * Violations held beyond a key's full queue while the store is up: written as soon as the queue
 * drains (not at the client's next violation, which may never come), and in any case within
 * MAX_HELD_WAIT_MS; with the memory and the Mongo storage.
 */
import mongoose from 'mongoose';
import { DEFAULT_ESCALATION_POLICY, Rampart, RateLimitService, type RampartStorage, type ViolationEvent } from '../../lib/index.js';
import { MAX_QUEUED_PER_KEY } from '../../lib/protection/escalator.js';
import { MAX_HELD_WAIT_MS } from '../../lib/protection/violation-writer.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { quietNestLogs } from '../support/quiet-logs.js';
import { until } from '../support/until.js';
import { protectionModule, violationReport } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);
const POLICY = { ...DEFAULT_ESCALATION_POLICY, blockAfterViolations: 3 };
const HELD = 10;

/** `inner`, with the first read of a ban record waiting for `gate`, and violation writes counted. */
function instrumented(inner: RampartStorage, gate: Promise<void> | undefined, writeDelayMs = 0) {
  let written = 0;
  let reads = 0;
  const storage: RampartStorage = {
    ...inner,
    bans: Object.assign(Object.create(inner.bans) as typeof inner.bans, {
      get: async (...args: Parameters<typeof inner.bans.get>) => {
        if (++reads === 1 && gate) await gate;
        return inner.bans.get(...args);
      },
    }),
    violations: Object.assign(Object.create(inner.violations) as typeof inner.violations, {
      record: async (...args: Parameters<typeof inner.violations.record>) => {
        if (writeDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, writeDelayMs));
        await inner.violations.record(...args);
        written++;
      },
    }),
  };
  return { storage, written: () => written };
}

function scenarios(name: string, makeStorage: (clock: FakeClock) => RampartStorage) {
  describe(name, () => {
    let t: TestApp;
    let spies: jest.SpyInstance[];
    let keys = 0;
    /** A client key of its own for each test (the Mongo database is shared by the tests of a file). */
    const freshKey = () => `198.51.100.${++keys}`;
    beforeEach(() => {
      spies = quietNestLogs();
    });
    afterEach(async () => {
      await t.close();
      for (const spy of spies) spy.mockRestore();
    });

    it('writes the held violations when the queue drains, though no violation of the key is written then (it is blocked)', async () => {
      const clock = new FakeClock(START);
      let open!: () => void;
      const { storage, written } = instrumented(makeStorage(clock), new Promise<void>((resolve) => (open = resolve)));
      t = await startApp('express', protectionModule({ clock, storage, storeTimeoutMs: 1_000 }));
      const rampart = t.app.get(Rampart);
      const key = freshKey();
      const report = () => rampart.escalator.recordViolation(violationReport(key, START, POLICY));
      // The first violation waits for its ban record; the queue fills behind it, the rest is held.
      const queued = Array.from({ length: MAX_QUEUED_PER_KEY }, report);
      const held = await Promise.all(Array.from({ length: HELD }, report));
      expect(held.map((o) => o.action)).toEqual(Array<string>(HELD).fill('none'));
      // An operator blocks the key meanwhile: the queued violations escalate no further.
      await t.app.get(RateLimitService).ban({ type: 'key', key }, 'temporary', 60_000, 'manual', 'ops');
      open();
      await Promise.all(queued);
      // The held ten are written, with nothing more from the client. (The queued ones met the block
      // at their turn: they are no violations.)
      await until(() => written() === HELD);
      expect(await storage.violations.count(key, 0)).toBe(HELD);
    });

    it(`writes held violations within ${MAX_HELD_WAIT_MS} ms while the queue is still stuck`, async () => {
      const clock = new FakeClock(START);
      const { storage, written } = instrumented(makeStorage(clock), new Promise<void>(() => undefined));
      t = await startApp('express', protectionModule({ clock, storage, storeTimeoutMs: 1_000 }));
      const rampart = t.app.get(Rampart);
      const key = freshKey();
      for (let i = 0; i < MAX_QUEUED_PER_KEY; i++) void rampart.escalator.recordViolation(violationReport(key, START, POLICY));
      const heldAt = performance.now();
      await Promise.all(Array.from({ length: HELD }, () => rampart.escalator.recordViolation(violationReport(key, START, POLICY))));
      await until(() => written() === HELD, MAX_HELD_WAIT_MS + 1_000);
      // Not before the wait: the queue might have drained first.
      expect(performance.now() - heldAt).toBeGreaterThanOrEqual(MAX_HELD_WAIT_MS - 50);
      expect(await storage.violations.count(key, 0)).toBe(HELD);
    });

    it.each(ADAPTERS)(
      'writes every violation announced during a burst of 80 denials on %s, with no later request',
      async (adapter) => {
        const clock = new FakeClock(START);
        const { storage, written } = instrumented(makeStorage(clock), undefined, 20);
        const announced: ViolationEvent[] = [];
        t = await startApp(adapter, protectionModule({ clock, storage, storeTimeoutMs: 2_000, events: { onViolation: (v) => void announced.push(v) } }));
        const client = freshKey();
        const get = () => t.http().get('/data').set('X-Forwarded-For', client);
        await get().expect(200);
        await get().expect(200);
        const statuses = await Promise.all(Array.from({ length: 80 }, () => get().then((res) => res.status)));
        expect(statuses.every((s) => s === 429)).toBe(true);
        await until(() => written() === announced.length, 5_000);
        expect(await storage.violations.count(client, 0)).toBe(announced.length);
        expect(spies[2]!.mock.calls).toEqual([]);
      },
      20_000,
    );
  });
}

scenarios('held violations with the memory storage', () => memoryStorage());

describeMongo('held violations with the Mongo storage', () => {
  const dbName = uniqueDbName('held_violations');
  scenarios('on MongoDB', (clock) => mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock }));
  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });
});
