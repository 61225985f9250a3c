import type { AlgorithmRule } from '../../../lib/core/algorithms/algorithm.interface.js';
import { slidingLog, type SlidingLogState } from '../../../lib/core/algorithms/sliding-log.algorithm.js';

const W = 1_700_000_000_000;
const rule: AlgorithmRule = { limit: 5, windowMs: 1000 };

function run(requests: ReadonlyArray<readonly [number, number]>, r: AlgorithmRule = rule): SlidingLogState | undefined {
  let state: SlidingLogState | undefined;
  for (const [t, cost] of requests) {
    const outcome = slidingLog.consume(state, r, t, cost);
    expect(outcome.decision.allowed).toBe(true);
    state = outcome.state;
  }
  return state;
}

describe('sliding log', () => {
  it('logs (time, cost) pairs, merging requests made in the same millisecond', () => {
    const state = run([
      [W, 1],
      [W, 2],
      [W + 5, 1],
    ]);
    expect(state).toEqual({ log: [W, 3, W + 5, 1] });
  });

  it('lets an entry made at t count until t + windowMs, exclusive', () => {
    const one: AlgorithmRule = { limit: 1, windowMs: 1000 };
    const state = run([[W, 1]], one);
    expect(slidingLog.consume(state, one, W + 999, 1).decision).toEqual({
      allowed: false,
      limit: 1,
      remaining: 0,
      resetAtMs: W + 1000,
      retryAfterMs: 1,
    });
    const next = slidingLog.consume(state, one, W + 1000, 1);
    expect(next.decision).toEqual({ allowed: true, limit: 1, remaining: 0, resetAtMs: W + 2000, retryAfterMs: 0 });
    // The expired entry is pruned from the stored log.
    expect(next.state).toEqual({ log: [W + 1000, 1] });
  });

  it('has no edge burst: the window slides with every request', () => {
    const state = run([[W + 999, 5]]);
    expect(slidingLog.peek(state, rule, W + 1000)).toMatchObject({ allowed: false, retryAfterMs: 999 });
    expect(slidingLog.peek(state, rule, W + 1998).allowed).toBe(false);
    expect(slidingLog.peek(state, rule, W + 1999).allowed).toBe(true);
  });

  it('waits for just enough of the oldest entries to expire', () => {
    const state = run([
      [W, 2],
      [W + 100, 1],
      [W + 300, 2],
    ]);
    // Needs 3 units: the 2 from W and the 1 from W + 100 must expire, at W + 1100.
    const { decision } = slidingLog.consume(state, rule, W + 500, 3);
    expect(decision).toEqual({ allowed: false, limit: 5, remaining: 0, resetAtMs: W + 1300, retryAfterMs: 600 });
    expect(slidingLog.consume(state, rule, W + 1099, 3).decision).toMatchObject({ allowed: false, remaining: 2 });
    expect(slidingLog.consume(state, rule, W + 1100, 3).decision).toMatchObject({ allowed: true, remaining: 0 });
    // Cost 2 only needs the first entry gone.
    expect(slidingLog.consume(state, rule, W + 500, 2).decision.retryAfterMs).toBe(500);
    // A cost above the limit never fits; the retry is the time until the log is empty.
    expect(slidingLog.consume(state, rule, W + 500, 6).decision).toMatchObject({ allowed: false, retryAfterMs: 800, resetAtMs: W + 1300 });
  });

  it('expires with its newest entry', () => {
    expect(slidingLog.expiresAtMs({ log: [W, 1, W + 40, 2] }, rule)).toBe(W + 1040);
    expect(slidingLog.expiresAtMs({ log: [] }, rule)).toBe(0);
    expect(slidingLog.peek({ log: [] }, rule, W)).toEqual(slidingLog.peek(undefined, rule, W));
  });

  it('keeps entries written by a clock running ahead, and the log in order', () => {
    const ahead: SlidingLogState = { log: [W + 50, 1] };
    const { state, decision } = slidingLog.consume(ahead, rule, W, 1);
    expect(state).toEqual({ log: [W, 1, W + 50, 1] });
    expect(decision.resetAtMs).toBe(W + 1050);
  });

  it('never makes its own entries expire later for a writer whose clock runs a second ahead', () => {
    const r: AlgorithmRule = { limit: 2, windowMs: 1000 };
    // The instance ahead admits one request at real time W (its clock says W + 1000)...
    const ahead = slidingLog.consume(undefined, r, W + 1000, 1).state;
    // ...this one admits the second at W.
    const both = slidingLog.consume(ahead, r, W, 1);
    expect(both.decision.allowed).toBe(true);
    expect(slidingLog.consume(both.state, r, W + 999, 1).decision).toMatchObject({ allowed: false, retryAfterMs: 1 });
    // A window later its own entry is gone: the key is not locked out for the skew.
    expect(slidingLog.consume(both.state, r, W + 1000, 1).decision).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('agrees with a brute-force count of every admitted unit', () => {
    const r: AlgorithmRule = { limit: 7, windowMs: 40 };
    let seed = 2024;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const admittedUnits: number[] = []; // one timestamp per admitted cost unit
    const usedAt = (t: number): number => admittedUnits.filter((u) => u > t - r.windowMs && u <= t).length;
    let state: SlidingLogState | undefined;
    let now = W;
    let denials = 0;
    for (let i = 0; i < 3000; i++) {
      now += random(3) === 0 ? random(30) : 0;
      const cost = 1 + random(4);
      const { state: next, decision } = slidingLog.consume(state, r, now, cost);
      const used = usedAt(now);
      const fits = used + cost <= r.limit;
      expect(decision.allowed).toBe(fits);
      expect(decision.remaining).toBe(Math.max(0, r.limit - used - (fits ? cost : 0)));
      if (fits) {
        for (let k = 0; k < cost; k++) admittedUnits.push(now);
      } else {
        let first = now;
        while (usedAt(first) + cost > r.limit) first++;
        expect(decision.retryAfterMs).toBe(first - now);
        denials++;
      }
      state = next;
      // Only entries still within the window are kept.
      expect(state!.log.length).toBeLessThanOrEqual(2 * r.limit);
    }
    expect(denials).toBeGreaterThan(200);
  });
});
