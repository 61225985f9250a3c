/**
 * Escalation on a storage that stops answering while the counter store does not: every storage call
 * off the request path is bounded (10 × storeTimeoutMs), so one silent call never stalls a key's
 * violations for good, and a key's queue is capped, the rest held and written later.
 */
import { Logger } from '@nestjs/common';
import { DEFAULT_ESCALATION_POLICY, Rampart, type RampartStorage } from '../../lib/index.js';
import { MAX_QUEUED_PER_KEY, type ViolationReport } from '../../lib/protection/escalator.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { startApp, type TestApp } from '../support/http-app.js';
import { until } from '../support/until.js';
import { protectionModule, violationReport } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);
const POLICY = { ...DEFAULT_ESCALATION_POLICY, blockAfterViolations: 3 };
const report = (key: string, escalation = POLICY): ViolationReport => violationReport(key, START, escalation);

describe('escalation on a storage that stops answering', () => {
  let t: TestApp;
  let spies: jest.SpyInstance[];
  beforeEach(() => {
    spies = (['log', 'warn', 'error'] as const).map((level) => jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined));
  });
  afterEach(async () => {
    await t.close();
    for (const spy of spies) spy.mockRestore();
  });

  it('gives up on a call that never answers after 10 × storeTimeoutMs, so the key still gets its block', async () => {
    const inner = memoryStorage();
    let gets = 0;
    const storage: RampartStorage = {
      ...inner,
      bans: Object.assign(Object.create(inner.bans) as typeof inner.bans, {
        // The first read of the key's record never answers.
        get: (...args: Parameters<typeof inner.bans.get>) => (++gets === 1 ? new Promise<never>(() => undefined) : inner.bans.get(...args)),
      }),
    };
    t = await startApp('express', protectionModule({ clock: new FakeClock(START), storage, storeTimeoutMs: 20 }));
    const protection = t.app.get(Rampart);
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => protection.escalator.recordViolation(report('k'))));
    // Each request got its answer within storeTimeoutMs, by its rule alone.
    expect(outcomes.map((o) => o.action)).toEqual(['none', 'none', 'none', 'none']);
    await until(() => protection.bans.checkKey('k', START).status === 'blocked');
    expect(spies[2]!.mock.calls.map(([m]) => String(m))).toContain(
      "Escalation of 'k' stopped at reading its ban record: timed out after 200 ms. The request was answered by its rule alone.",
    );
    expect(await inner.violations.count('k', 0)).toBe(3);
  });

  it(`queues at most ${MAX_QUEUED_PER_KEY} violations of one key and holds the rest, written once the storage takes writes again`, async () => {
    const inner = memoryStorage();
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    const storage: RampartStorage = {
      ...inner,
      violations: Object.assign(Object.create(inner.violations) as typeof inner.violations, {
        record: async (...args: Parameters<typeof inner.violations.record>) => {
          await stalled;
          return inner.violations.record(...args);
        },
      }),
    };
    const recorded: boolean[] = [];
    t = await startApp(
      'express',
      protectionModule({
        clock: new FakeClock(START),
        storage,
        storeTimeoutMs: 1_000,
        events: { onViolation: (v) => void recorded.push(v.recorded) },
      }),
    );
    const protection = t.app.get(Rampart);
    const total = MAX_QUEUED_PER_KEY + 10;
    const startedAt = performance.now();
    // A policy that never blocks: every violation is one.
    const answered = Array.from({ length: total }, () =>
      protection.escalator.recordViolation(report('k', { ...POLICY, blockAfterViolations: 1_000, permanentBanAfter: 1_000 })),
    );
    // The ten beyond the queue are answered at once, announced as not recorded (held).
    await Promise.all(answered.slice(MAX_QUEUED_PER_KEY));
    expect(performance.now() - startedAt).toBeLessThan(500);
    expect(recorded).toEqual(Array<boolean>(10).fill(false));

    release();
    await until(() => spies[0]!.mock.calls.some(([m]) => String(m).startsWith('Wrote ')));
    expect(spies[0]!.mock.calls.map(([m]) => String(m))).toContain('Wrote 10 violations held while the store was down.');
    await until(() => recorded.length === total);
    expect(await inner.violations.count('k', 0)).toBe(total);
  });
});
