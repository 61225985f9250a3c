import { createRampart } from '../../lib/engine/rampart.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { isSplitStorage, splitStorage } from '../../lib/storage/split-storage.js';
import type { RampartStorage } from '../../lib/storage/rampart-storage.interface.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';

const T0 = Date.UTC(2030, 0, 1);

/** A memory storage whose init() fails `failures` times first, counting its calls. */
function tracked(failures = 0): RampartStorage & { inits: number; closes: number } {
  const storage = memoryStorage();
  let left = failures;
  const out = {
    ...storage,
    inits: 0,
    closes: 0,
    async init() {
      out.inits++;
      if (left-- > 0) throw new Error('not yet');
    },
    async close() {
      out.closes++;
    },
  };
  return out;
}

describe('splitStorage', () => {
  it('takes counters and leases from one storage, bans, violations and lists from the other', () => {
    const counters = memoryStorage();
    const records = memoryStorage();
    const split = splitStorage({ counters, records });
    expect(split.rateLimits).toBe(counters.rateLimits);
    expect(split.leases).toBe(counters.leases);
    expect(split.bans).toBe(records.bans);
    expect(split.violations).toBe(records.violations);
    expect(split.accessList).toBe(records.accessList);
    expect(isSplitStorage({ counters, records })).toBe(true);
    expect(isSplitStorage(counters)).toBe(false);
  });

  it('prepares both, again only the one that failed, and closes both', async () => {
    const counters = tracked();
    const records = tracked(1);
    const split = splitStorage({ counters, records });
    await expect(split.init!()).rejects.toThrow('not yet');
    await split.init!();
    expect([counters.inits, records.inits]).toEqual([1, 2]);
    await split.close!();
    expect([counters.closes, records.closes]).toEqual([1, 1]);
  });

  it('is what storage: { counters, records } means to the engine: counted in one, banned in the other', async () => {
    const counters = memoryStorage();
    const records = memoryStorage();
    const clock = new FakeClock(T0);
    const rampart = createRampart({
      rules: [{ name: 'r', limit: 1, windowMs: 1_000 }],
      storage: { counters, records },
      escalation: { blockAfterViolations: 5 },
      clock,
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    });
    await rampart.start();
    try {
      expect((await rampart.decide({ target: 'job', address: '192.0.2.1' })).outcome).toBe('admitted');
      expect((await rampart.decide({ target: 'job', address: '192.0.2.1' })).outcome).toBe('limited');
      expect(counters.rateLimits.size).toBe(1);
      expect(records.rateLimits.size).toBe(0);
      let recorded = 0;
      await until(() => {
        void records.violations.list({}, { limit: 10 }).then((page) => (recorded = page.items.length));
        return recorded === 1;
      });
      expect((await counters.violations.list({}, { limit: 10 })).items).toHaveLength(0);
    } finally {
      await rampart.stop();
    }
  });
});
