import { DEFAULT_STORE_TIMEOUT_MS } from '../../lib/engine/rampart-config.js';
import { BAN_SYNC_OVERLAP_MS, TOLERATED_CLOCK_SKEW_MS } from '../../lib/protection/ban-sync.js';
import { STORAGE_STEP_TIMEOUT_FACTOR } from '../../lib/protection/store-health.js';
import { RateLimitService } from '../../lib/index.js';
import { memoryStorage, type MemoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { protectionModule } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const CLIENT = '203.0.113.7';

/** Lets the promise chains of a poll started by a timer run to the end (setImmediate is not faked). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe.each(ADAPTERS)('propagation between two instances sharing one storage on %s', (adapter) => {
  let clock: FakeClock;
  let storage: MemoryStorage;
  let a: TestApp;
  let b: TestApp;
  let protectionA: RateLimitService;
  let protectionB: RateLimitService;

  async function startBoth(banSyncIntervalMs?: number) {
    clock = new FakeClock(START);
    storage = memoryStorage();
    const options = { clock, storage, ...(banSyncIntervalMs ? { banSyncIntervalMs } : {}) };
    a = await startApp(adapter, protectionModule(options));
    b = await startApp(adapter, protectionModule(options));
    protectionA = a.app.get(RateLimitService);
    protectionB = b.app.get(RateLimitService);
  }

  afterEach(async () => {
    await a.close();
    await b.close();
    jest.useRealTimers();
  });

  const on = (t: TestApp, address = CLIENT) => t.http().get('/data').set('X-Forwarded-For', address);

  describe('with syncNow', () => {
    beforeEach(() => startBoth());

    it('enforces a ban made on A on B once B has synced', async () => {
      await protectionA.ban({ type: 'key', key: CLIENT }, 'permanent', undefined, 'abuse', 'alice');
      await on(a).expect(403);
      await on(b).expect(200); // B has not fetched it yet
      await protectionB.syncNow();
      await on(b).expect(403);

      await protectionA.unban({ type: 'key', key: CLIENT }, 'alice');
      clock.advance(MINUTE); // a fresh window of the shared counter
      await on(a).expect(200);
      await on(b).expect(403);
      await protectionB.syncNow();
      await on(b).expect(200);
    });

    it('propagates an unban that clears history like any other unban', async () => {
      await protectionA.ban({ type: 'key', key: CLIENT }, 'permanent', undefined, 'abuse', 'alice');
      await protectionB.syncNow();
      await on(b).expect(403);
      await protectionA.unban({ type: 'key', key: CLIENT }, 'alice', true);
      clock.advance(MINUTE);
      await protectionB.syncNow();
      await on(b).expect(200);
    });

    it('shares range bans and list entries', async () => {
      await protectionA.ban({ type: 'cidr', cidr: '2001:db8::/32' }, 'temporary', 5 * MINUTE, 'abuse', 'alice');
      await protectionA.putAccessEntry('deny', '198.51.100.0/24', 'alice');
      await protectionB.syncNow();
      await on(b, '2001:db8:1::1').expect(429).expect('retry-after', '300');
      await on(b, '198.51.100.1').expect(403);
    });

    it('counts violations from both instances towards one block, and B adopts a block it has not fetched', async () => {
      await on(a).expect(200);
      await on(b).expect(200);
      await on(a).expect(429); // violation 1
      await on(b).expect(429); // violation 2
      await on(a).expect(429).expect('retry-after', '900'); // violation 3: A blocks
      clock.advance(MINUTE); // a new window: the rule alone would admit the client again
      await on(a).expect(429).expect('retry-after', '840');
      // B has not synced: its rule admits two requests, the third finds the block in the store.
      await on(b).expect(200);
      await on(b).expect(200);
      await on(b).expect(429).expect('retry-after', '840');
      expect(await storage.violations.count(CLIENT, 0)).toBe(3);
      expect(await storage.bans.get({ type: 'key', key: CLIENT })).toMatchObject({ blockCount: 1 });
      await on(b).expect(429).expect('retry-after', '840'); // now from B's cache
    });

    it('applies a change written by an instance whose clock is behind, within the overlap', async () => {
      await protectionB.syncNow(); // B's cursor: now
      const behind = clock.now() - BAN_SYNC_OVERLAP_MS + 1;
      await storage.bans.put(
        { target: { type: 'key', key: CLIENT }, kind: 'permanent', reason: 'x', source: 'admin', createdBy: 'alice', violationCount: 0 },
        behind,
      );
      await protectionB.syncNow();
      await on(b).expect(403);
    });
  });

  describe('with clocks apart by the tolerated skew', () => {
    /** A's clock is behind B's by the skew the README tolerates. */
    async function startSkewed() {
      clock = new FakeClock(START);
      const behind = new FakeClock(START - TOLERATED_CLOCK_SKEW_MS);
      storage = memoryStorage();
      a = await startApp(adapter, protectionModule({ clock: behind, storage }));
      b = await startApp(adapter, protectionModule({ clock, storage }));
      protectionA = a.app.get(RateLimitService);
      protectionB = b.app.get(RateLimitService);
      return behind;
    }

    it('enforces on B, at its next poll, a ban A made one poll interval after B polled', async () => {
      const behind = await startSkewed();
      await protectionB.syncNow(); // B's cursor: START
      clock.advance(999);
      behind.advance(999);
      await protectionA.ban({ type: 'key', key: CLIENT }, 'permanent', undefined, 'abuse', 'alice'); // stamped START + 999 - skew
      clock.advance(1);
      await protectionB.syncNow();
      await on(b).expect(403);
    });

    it('also when the write committed as late as a storage step may take after the time it is stamped with', async () => {
      await startSkewed();
      await protectionB.syncNow(); // B's cursor: START
      // A block A decided at START + 999 by its clock (behind), written a whole storage step later.
      const writeMs = STORAGE_STEP_TIMEOUT_FACTOR * DEFAULT_STORE_TIMEOUT_MS;
      clock.advance(1_000);
      const stampedMs = clock.now() - 1 - TOLERATED_CLOCK_SKEW_MS - writeMs;
      expect(stampedMs).toBeGreaterThanOrEqual(START - BAN_SYNC_OVERLAP_MS);
      await storage.bans.put(
        {
          target: { type: 'key', key: CLIENT },
          kind: 'temporary',
          reason: 'x',
          source: 'auto',
          createdBy: 'rampart',
          expiresAtMs: START + MINUTE,
          violationCount: 3,
        },
        stampedMs,
      );
      await protectionB.syncNow();
      await on(b).expect(429);
    });
  });

  describe('with the sync timer', () => {
    it('enforces a ban made on A on B after banSyncIntervalMs, from a timer that is stopped on shutdown', async () => {
      jest.useFakeTimers({
        doNotFake: [
          'Date',
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'requestAnimationFrame',
          'cancelAnimationFrame',
          'requestIdleCallback',
          'cancelIdleCallback',
          'setImmediate',
          'clearImmediate',
          'setTimeout',
          'clearTimeout',
        ],
      });
      await startBoth(2_000);
      expect(jest.getTimerCount()).toBe(4); // per instance: the ban-sync interval and the statistics report interval

      await protectionA.ban({ type: 'key', key: CLIENT }, 'temporary', 10 * MINUTE, 'abuse', 'alice');
      jest.advanceTimersByTime(1_999);
      await settle();
      await on(b).expect(200);
      jest.advanceTimersByTime(1);
      await settle();
      await on(b).expect(429).expect('retry-after', '600');

      await protectionA.unban({ type: 'key', key: CLIENT }, 'alice');
      jest.advanceTimersByTime(2_000);
      await settle();
      await on(b).expect(200);

      await a.close();
      await b.close();
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  it('never keeps the process alive with its timer', async () => {
    const spy = jest.spyOn(global, 'setInterval');
    try {
      await startBoth();
      const timers = spy.mock.results.map((r) => r.value as NodeJS.Timeout);
      // Per instance: the ban-sync interval and the statistics report interval.
      expect(timers).toHaveLength(4);
      for (const timer of timers) expect(timer.hasRef()).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });
});
