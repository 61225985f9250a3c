/**
 * Top offending keys per bucket: bounded, yet a heavy offender that comes after the bucket's key
 * capacity is full is still counted and listed.
 */
import { createRampart } from '../../lib/engine/index.js';
import { sumStats } from '../../lib/observability/fleet-stats.js';
import { SpaceSaving } from '../../lib/observability/space-saving.js';
import { MAX_KEYS_PER_BUCKET } from '../../lib/observability/stats-buckets.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('SpaceSaving', () => {
  it('counts exactly within its capacity, most first and ties by key', () => {
    const counter = new SpaceSaving(3);
    for (const key of ['b', 'a', 'c', 'a', 'c', 'a']) counter.add(key);
    expect(counter.top(10)).toEqual([
      ['a', 3],
      ['c', 2],
      ['b', 1],
    ]);
    expect(counter.top(2)).toEqual([
      ['a', 3],
      ['c', 2],
    ]);
  });

  it('when full, gives a new key the place of the least counted one, with its count + 1', () => {
    const counter = new SpaceSaving(3);
    for (const key of ['a', 'a', 'a', 'b', 'b', 'c', 'd']) counter.add(key);
    // c (1) was the least counted: d takes its place with 2.
    expect(counter.top(10)).toEqual([
      ['a', 3],
      ['b', 2],
      ['d', 2],
    ]);
  });

  it('keeps at most capacity keys, and a late heavy key among them', () => {
    const counter = new SpaceSaving(100);
    for (let i = 0; i < 10_000; i++) counter.add(`light-${i}`);
    for (let i = 0; i < 500; i++) counter.add('heavy');
    const top = counter.top(1_000);
    expect(top).toHaveLength(100);
    expect(top[0]![0]).toBe('heavy');
    // Over by at most the least count it replaced (10 000 keys over 100 places: 100).
    expect(top[0]![1]).toBeGreaterThanOrEqual(500);
    expect(top[0]![1]).toBeLessThanOrEqual(600);
  });
});

describe('top keys of a bucket', () => {
  it(`lists a heavy offender that comes after ${MAX_KEYS_PER_BUCKET} distinct keys were refused in the bucket`, async () => {
    const clock = new FakeClock(T0);
    const rampart = createRampart({ clock, logger: silent, logging: false, escalation: false, rules: [{ name: 'r', limit: 1, windowMs: 60_000 }] });
    const address = (i: number) => `10.0.${i >> 8}.${i & 255}`;
    for (let i = 0; i < MAX_KEYS_PER_BUCKET; i++) {
      for (let n = 0; n < 2; n++) await rampart.decide({ target: 'GET /x', address: address(i) }); // one refusal each
    }
    const heavy = '203.0.113.66';
    for (let n = 0; n < 51; n++) await rampart.decide({ target: 'GET /x', address: heavy }); // 50 refusals
    const summary = rampart.stats!.summary(T0 + 1_000);
    expect(summary.buckets).toHaveLength(1);
    expect(summary.buckets[0]!.keys[0]).toEqual([heavy, 51]); // its 50, plus the 1 of the key it replaced
    expect(sumStats([summary], 60_000, T0 + 1_000, 20).topKeys[0]).toEqual({ key: heavy, refusals: 51 });
    await rampart.stop();
  });
});
