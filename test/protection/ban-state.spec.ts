import { BanSync } from '../../lib/protection/ban-sync.js';
import type { ProtectionVerdict } from '../../lib/protection/protection-verdict.js';
import type { Ban, NewBan } from '../../lib/storage/ban-store.interface.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import type { RampartStorage } from '../../lib/storage/rampart-storage.interface.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;
const BOUND = 40;
const OVER = 120;

const block = (key: string): NewBan => ({
  target: { type: 'key', key },
  kind: 'temporary',
  reason: "3 violations of rate limits (last: 'login')",
  source: 'auto',
  createdBy: 'rampart',
  expiresAtMs: T0 + HOUR,
  violationCount: 3,
});
const operatorBan = (key: string): NewBan => ({
  target: { type: 'key', key },
  kind: 'permanent',
  reason: 'fraud',
  source: 'admin',
  createdBy: 'alice',
  violationCount: 0,
});
const user = (i: number) => `login:user-${i}@example.com`;

const isPromise = (value: unknown): value is Promise<ProtectionVerdict> => typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * The storage with its `bans.get` calls (the reads a request may make) counted; while `reads.hold`
 * is set, a read takes the record at once and answers only once `hold` resolves (a slow answer).
 */
function counted(storage: RampartStorage) {
  const reads: { get: number; hold?: Promise<void> } = { get: 0 };
  const bans = Object.create(storage.bans) as RampartStorage['bans'];
  bans.get = async (target) => {
    reads.get++;
    const hold = reads.hold;
    const record = await storage.bans.get(target);
    if (hold) await hold;
    return record;
  };
  return { storage: { ...storage, bans }, reads };
}

/**
 * A login rule keyed by user name under a spray: far more automatic blocks than an instance holds
 * in memory. The bound holds, and every blocked user name is still refused.
 */
function boundedBanState(name: string, create: () => Promise<{ storage: RampartStorage; close: () => Promise<void> }>) {
  describe(`bounded ban state on ${name}`, () => {
    let storage: RampartStorage;
    let close: () => Promise<void>;
    let clock: FakeClock;

    beforeEach(async () => {
      ({ storage, close } = await create());
      clock = new FakeClock(T0);
    });
    afterEach(() => close());

    async function sprayed(): Promise<{ sync: BanSync; reads: { get: number; hold?: Promise<void> } }> {
      await storage.bans.put(operatorBan('login:fraudster@example.com'), T0 - 1);
      for (let i = 0; i < BOUND + OVER; i++) await storage.bans.put(block(user(i)), T0 - 1_000 + i);
      const watched = counted(storage);
      const sync = new BanSync(watched.storage, clock, (call) => call(), { maxCachedKeyBans: BOUND });
      await sync.syncNow();
      return { sync, reads: watched.reads };
    }

    it(`holds at most ${BOUND} automatic bans after ${BOUND} + ${OVER} blocks, and refuses every blocked key`, async () => {
      const { sync } = await sprayed();
      expect(sync.sizes.autoKeyBans).toBeLessThanOrEqual(BOUND);
      expect(sync.sizes.keyBans).toBeLessThanOrEqual(BOUND + 1);
      for (let i = 0; i < BOUND + OVER; i++) {
        const verdict = await sync.check(user(i), null, clock.now());
        expect([user(i), verdict.status]).toEqual([user(i), 'blocked']);
      }
      expect(sync.sizes.autoKeyBans).toBeLessThanOrEqual(BOUND);
    });

    it("never drops an operator's ban: answered from memory, whatever the number of automatic ones", async () => {
      const { sync, reads } = await sprayed();
      for (let i = 0; i < 3 * BOUND; i++) sync.applyBan(await storage.bans.put(block(`login:more-${i}`), clock.now()), clock.now());
      const verdict = sync.check('login:fraudster@example.com', null, clock.now());
      expect(isPromise(verdict)).toBe(false);
      expect(verdict).toMatchObject({ status: 'banned', ban: { source: 'admin' } });
      expect(sync.checkKey('login:fraudster@example.com', clock.now()).status).toBe('banned');
      expect(reads.get).toBe(0);
    });

    it('answers a blocked client it holds without a store read, and reads a dropped one once, then holds it', async () => {
      const { sync, reads } = await sprayed();
      const held = Array.from({ length: BOUND + OVER }, (_, i) => user(i)).filter((key) => sync.checkKey(key, clock.now()).status === 'blocked');
      const dropped = Array.from({ length: BOUND + OVER }, (_, i) => user(i)).filter((key) => !held.includes(key));
      expect(held.length).toBeGreaterThan(0);
      expect(dropped.length).toBeGreaterThan(0);
      for (const key of held) expect(sync.check(key, '203.0.113.7', clock.now())).toMatchObject({ status: 'blocked' });
      expect(reads.get).toBe(0);

      const first = sync.check(dropped[0]!, '203.0.113.7', clock.now());
      expect(isPromise(first)).toBe(true);
      await expect(first).resolves.toMatchObject({ status: 'blocked', untilMs: T0 + HOUR });
      expect(reads.get).toBe(1);
      expect(sync.check(dropped[0]!, '203.0.113.7', clock.now())).toMatchObject({ status: 'blocked' });
      expect(reads.get).toBe(1);
    });

    it('reads the store for no client without a ban, but for rare filter false positives, each once', async () => {
      const { sync, reads } = await sprayed();
      const unknown = Array.from({ length: 2_000 }, (_, i) => `login:someone-${i}@example.org`);
      for (const key of unknown) expect((await sync.check(key, null, clock.now())).status).toBe('none');
      const firstPass = reads.get;
      expect(firstPass).toBeLessThanOrEqual(5);
      for (const key of unknown) expect((await sync.check(key, null, clock.now())).status).toBe('none');
      expect(reads.get).toBe(firstPass);
    });

    it('never lets a read answered after a change undo it', async () => {
      const { sync, reads } = await sprayed();
      const dropped = Array.from({ length: BOUND + OVER }, (_, i) => user(i)).find((key) => sync.checkKey(key, clock.now()).status === 'none')!;
      let answer!: () => void;
      reads.hold = new Promise<void>((resolve) => (answer = resolve));
      const pending = sync.check(dropped, null, clock.now());
      // The read has taken the block; an operator lifts it before the read answers.
      await new Promise((resolve) => setImmediate(resolve));
      const lifted = (await storage.bans.lift({ type: 'key', key: dropped }, 'alice', clock.now())) as Ban;
      sync.applyBan(lifted, clock.now());
      answer();
      await pending;
      expect(sync.check(dropped, null, clock.now())).toMatchObject({ status: 'none' });
      expect(reads.get).toBe(1);
    });

    it('keeps fetching changes while a long full reload streams the bans in force', async () => {
      const { sync } = await sprayed();
      const stream = storage.bans.streamActive!.bind(storage.bans);
      let duringReload: string | undefined;
      // A slow reload: one ban per batch, a second apart; another instance blocks a key meanwhile.
      storage.bans.streamActive = async function* (nowMs: number, batchSize: number) {
        let batches = 0;
        for await (const batch of stream(nowMs, batchSize)) {
          for (const ban of batch) {
            yield [ban];
            batches++;
            clock.advance(1_000);
            if (batches === 1) await storage.bans.put(block('login:new-during-reload'), clock.now());
            if (batches === 5) duringReload = sync.checkKey('login:new-during-reload', clock.now()).status;
          }
        }
      };
      clock.advance(10 * 60_000); // a full reload is due
      await sync.syncNow();
      expect(duringReload).toBe('blocked');
      expect(sync.checkKey('login:new-during-reload', clock.now()).status).toBe('blocked');
      expect((await sync.check(user(0), null, clock.now())).status).toBe('blocked');
    });

    it('drops from memory a block lifted elsewhere, at the next poll, and keeps the bound across full reloads', async () => {
      const { sync } = await sprayed();
      const some = user(BOUND + OVER - 1);
      expect((await sync.check(some, null, clock.now())).status).toBe('blocked');
      clock.advance(1_000);
      await storage.bans.lift({ type: 'key', key: some }, 'alice', clock.now());
      await sync.syncNow();
      expect((await sync.check(some, null, clock.now())).status).toBe('none');
      clock.advance(10 * 60_000); // past the full reload interval
      await sync.syncNow();
      expect(sync.sizes.autoKeyBans).toBeLessThanOrEqual(BOUND);
      expect((await sync.check(user(0), null, clock.now())).status).toBe('blocked');
      expect((await sync.check(some, null, clock.now())).status).toBe('none');
    });
  });
}

boundedBanState('the memory store', async () => ({ storage: memoryStorage(), close: async () => undefined }));

describeMongo('bounded ban state (MongoDB)', () => {
  // Some 300 round trips a test: room for a loaded machine.
  jest.setTimeout(30_000);
  boundedBanState('MongoDB', async () => {
    const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName: uniqueDbName('ban_state') } });
    await storage.init();
    return {
      storage,
      close: async () => {
        await storage.connection.dropDatabase().catch(() => undefined);
        await storage.close();
      },
    };
  });
});
