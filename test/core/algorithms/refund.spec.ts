/**
 * Refunds of each algorithm against hand-computed sequences: where the units go back, and where
 * they do not (a later window, an expired entry, a refilled bucket, below zero, above capacity).
 */
import type { AlgorithmRule } from '../../../lib/core/algorithms/algorithm.interface.js';
import { fixedWindow } from '../../../lib/core/algorithms/fixed-window.algorithm.js';
import { gcra, type GcraState } from '../../../lib/core/algorithms/gcra.algorithm.js';
import { slidingLog } from '../../../lib/core/algorithms/sliding-log.algorithm.js';
import { slidingWindowCounter } from '../../../lib/core/algorithms/sliding-window-counter.algorithm.js';
import { tokenBucket } from '../../../lib/core/algorithms/token-bucket.algorithm.js';

const rule: AlgorithmRule = { limit: 5, windowMs: 1000 };
/** A window start: a multiple of 1000. */
const W = 1_700_000_000_000;

describe('fixed window refund', () => {
  const state = fixedWindow.consume(undefined, rule, W + 100, 3).state!;

  it('takes the cost off the count of the window the units were taken from', () => {
    expect(state).toEqual({ windowStartMs: W, count: 3 });
    const refunded = fixedWindow.refund(state, rule, W + 400, 1, W + 100);
    expect(refunded).toEqual({ windowStartMs: W, count: 2 });
    // The unit is available again: five more cost units fit, not four.
    expect(fixedWindow.consume(refunded, rule, W + 500, 3).decision).toMatchObject({ allowed: true, remaining: 0 });
    expect(fixedWindow.consume(state, rule, W + 500, 3).decision.allowed).toBe(false);
  });

  it('never goes below zero', () => {
    expect(fixedWindow.refund(state, rule, W + 400, 5, W + 100)).toEqual({ windowStartMs: W, count: 0 });
    const empty = { windowStartMs: W, count: 0 };
    expect(fixedWindow.refund(empty, rule, W + 400, 1, W + 100)).toBe(empty);
  });

  it('gives nothing back once the window is over, nor into a later window', () => {
    expect(fixedWindow.refund(state, rule, W + 1000, 1, W + 100)).toBe(state);
    const next = fixedWindow.consume(state, rule, W + 1200, 2).state!;
    expect(next).toEqual({ windowStartMs: W + 1000, count: 2 });
    expect(fixedWindow.refund(next, rule, W + 1300, 1, W + 999)).toBe(next);
    expect(fixedWindow.refund(undefined, rule, W + 400, 1, W + 100)).toBeUndefined();
  });
});

describe('sliding window counter refund', () => {
  it('takes the cost off the current count while its window is the current one', () => {
    const state = { windowStartMs: W, current: 3, previous: 2 };
    expect(slidingWindowCounter.refund(state, rule, W + 500, 1, W + 100)).toEqual({ windowStartMs: W, current: 2, previous: 2 });
    expect(slidingWindowCounter.refund(state, rule, W + 500, 9, W + 100)).toEqual({ windowStartMs: W, current: 0, previous: 2 });
  });

  it('takes it off the previous count once the window after has begun', () => {
    const state = { windowStartMs: W + 1000, current: 1, previous: 4 };
    const refunded = slidingWindowCounter.refund(state, rule, W + 1300, 2, W + 900);
    expect(refunded).toEqual({ windowStartMs: W + 1000, current: 1, previous: 2 });
    // At W + 1300 the estimate was 4 × 0.7 + 1 = 3.8 (one unit left), now 2 × 0.7 + 1 = 2.4 (two left).
    expect(slidingWindowCounter.peek(state, rule, W + 1300).remaining).toBe(0);
    expect(slidingWindowCounter.peek(refunded, rule, W + 1300).remaining).toBe(1);
    // A state not rolled yet: the refunded count rolls into the previous one as it is.
    const unrolled = { windowStartMs: W, current: 4, previous: 0 };
    expect(slidingWindowCounter.refund(unrolled, rule, W + 1300, 2, W + 900)).toEqual({ windowStartMs: W, current: 2, previous: 0 });
  });

  it('gives nothing back once the window no longer weighs, nor into a later window', () => {
    const state = { windowStartMs: W + 1000, current: 1, previous: 4 };
    expect(slidingWindowCounter.refund(state, rule, W + 2000, 1, W + 900)).toBe(state);
    expect(slidingWindowCounter.refund(state, rule, W + 1300, 1, W - 100)).toBe(state);
    const later = { windowStartMs: W + 2000, current: 3, previous: 1 };
    expect(slidingWindowCounter.refund(later, rule, W + 1999, 1, W + 900)).toBe(later);
    const noPrevious = { windowStartMs: W + 1000, current: 2, previous: 0 };
    expect(slidingWindowCounter.refund(noPrevious, rule, W + 1300, 1, W + 900)).toBe(noPrevious);
  });
});

describe('sliding log refund', () => {
  const state = { log: [W + 100, 2, W + 300, 1] };

  it('takes the cost off the entry made at the reservation and drops it once empty', () => {
    const once = slidingLog.refund(state, rule, W + 500, 1, W + 100);
    expect(once).toEqual({ log: [W + 100, 1, W + 300, 1] });
    expect(slidingLog.refund(once, rule, W + 500, 1, W + 100)).toEqual({ log: [W + 300, 1] });
    expect(slidingLog.refund(state, rule, W + 500, 5, W + 300)).toEqual({ log: [W + 100, 2] });
    expect(state).toEqual({ log: [W + 100, 2, W + 300, 1] });
  });

  it('gives nothing back for an entry that expired or was never there', () => {
    expect(slidingLog.refund(state, rule, W + 1100, 1, W + 100)).toBe(state);
    expect(slidingLog.refund(state, rule, W + 1299, 1, W + 300)).toEqual({ log: [W + 100, 2] });
    expect(slidingLog.refund(state, rule, W + 500, 1, W + 200)).toBe(state);
    expect(slidingLog.refund(state, rule, W + 500, 1, W + 400)).toBe(state);
  });
});

/** 10 per second: T = 100 ms, a capacity of 10. */
const bucketRule: AlgorithmRule = { limit: 10, windowMs: 1000 };

describe('GCRA refund', () => {
  const busy = gcra.consume(undefined, bucketRule, W, 3).state!;

  it('moves the TAT back by cost × T less the time since the reservation', () => {
    expect(busy).toEqual({ tatMs: W + 300 });
    expect(gcra.refund(busy, bucketRule, W, 1, W)).toEqual({ tatMs: W + 200 });
    expect(gcra.refund(busy, bucketRule, W + 50, 1, W)).toEqual({ tatMs: W + 250 });
    expect(gcra.refund(busy, bucketRule, W + 100, 1, W)).toBe(busy);
    expect(gcra.refund(busy, bucketRule, W + 40, 3, W + 20)).toEqual({ tatMs: W + 40 });
  });

  it('never moves it before now (the bucket above capacity)', () => {
    expect(gcra.refund(busy, bucketRule, W + 250, 1, W + 240)).toEqual({ tatMs: W + 250 });
    const idle: GcraState = { tatMs: W - 5 };
    expect(gcra.refund(idle, bucketRule, W, 1, W)).toBe(idle);
    expect(gcra.refund(undefined, bucketRule, W, 1, W)).toBeUndefined();
  });

  it('never gives back what idle time gave back already', () => {
    // Idle client: a reservation at W, then a request at W + 150 that starts from now, not from the TAT.
    const reserved = gcra.consume(undefined, bucketRule, W, 1).state;
    const actual = gcra.consume(reserved, bucketRule, W + 150, 1).state!;
    const without = gcra.consume(undefined, bucketRule, W + 150, 1).state;
    expect(actual).toEqual(without);
    expect(gcra.refund(actual, bucketRule, W + 150, 1, W)).toBe(actual);
  });

  it('works on a fine grid (T = 0.1 ms) without drift', () => {
    const fine: AlgorithmRule = { limit: 10_000, windowMs: 1000, burst: 100 };
    const state = gcra.consume(undefined, fine, W, 50).state!;
    expect(state).toEqual({ tatMs: W + 5 });
    expect(gcra.refund(state, fine, W + 1, 30, W)).toEqual({ tatMs: W + 3 });
  });
});

describe('token bucket refund', () => {
  const drained = tokenBucket.consume(undefined, bucketRule, W, 3).state!;

  it('puts back cost tokens less the refill since the reservation', () => {
    expect(drained).toEqual({ tokens: 7, updatedAtMs: W });
    expect(tokenBucket.refund(drained, bucketRule, W, 2, W)).toEqual({ tokens: 9, updatedAtMs: W });
    // At W + 50 the bucket holds 7.5; half a token of the reservation has come back by refill.
    expect(tokenBucket.refund(drained, bucketRule, W + 50, 1, W)).toEqual({ tokens: 8, updatedAtMs: W + 50 });
    expect(tokenBucket.refund(drained, bucketRule, W + 100, 1, W)).toBe(drained);
  });

  it('never fills the bucket above capacity', () => {
    expect(tokenBucket.refund(drained, bucketRule, W + 250, 1, W + 240)).toEqual({ tokens: 10, updatedAtMs: W + 250 });
    const full = { tokens: 10, updatedAtMs: W };
    expect(tokenBucket.refund(full, bucketRule, W + 10, 1, W)).toBe(full);
  });

  it('holds the same bucket as GCRA after a refund', () => {
    const refunded = tokenBucket.refund(drained, bucketRule, W + 30, 2, W + 10)!;
    const tat = gcra.refund(gcra.consume(undefined, bucketRule, W, 3).state, bucketRule, W + 30, 2, W + 10)!;
    expect(refunded).toEqual({ tokens: 9.1, updatedAtMs: W + 30 });
    expect(tat).toEqual({ tatMs: W + 30 + 90 });
    expect(tokenBucket.peek(refunded, bucketRule, W + 30)).toEqual(gcra.peek(tat, bucketRule, W + 30));
  });
});
