import type { AlgorithmRule } from '../../../lib/core/algorithms/algorithm.interface.js';
import { slidingWindowCounter as counter, type SlidingWindowCounterState } from '../../../lib/core/algorithms/sliding-window-counter.algorithm.js';

const rule: AlgorithmRule = { limit: 10, windowMs: 1000 };
/** A window start: a multiple of 1000. */
const W = 1_700_000_000_000;
/** The window [W, W + 1000) admitted 10, nothing since. */
const fullPrevious: SlidingWindowCounterState = { windowStartMs: W, current: 10, previous: 0 };

describe('sliding window counter', () => {
  it('stores epoch-aligned windows', () => {
    const { state, decision } = counter.consume(undefined, rule, W + 437, 1);
    expect(state).toEqual({ windowStartMs: W, current: 1, previous: 0 });
    // The estimate is 0 again once this request's window has fully slid by.
    expect(decision).toEqual({ allowed: true, limit: 10, remaining: 9, resetAtMs: W + 2000, retryAfterMs: 0 });
  });

  it('gives the previous window full weight at exactly start + windowMs', () => {
    expect(counter.consume(fullPrevious, rule, W + 999, 1).decision.allowed).toBe(false);
    const atEdge = counter.consume(fullPrevious, rule, W + 1000, 1);
    expect(atEdge.state).toBe(fullPrevious);
    // 10 × (1 − 0) = 10: no room. Room for one once 10 × (1 − e/1000) ≤ 9, i.e. e ≥ 100.
    expect(atEdge.decision).toEqual({ allowed: false, limit: 10, remaining: 0, resetAtMs: W + 2000, retryAfterMs: 100 });
    expect(counter.peek(fullPrevious, rule, W + 1099).allowed).toBe(false);
    expect(counter.peek(fullPrevious, rule, W + 1100).allowed).toBe(true);
  });

  it('weights the previous window by the fraction of the window still to come', () => {
    // A quarter through: 10 × 0.75 = 7.5, so 2 fit (9.5) and a third does not (10.5).
    const quarter = counter.consume(fullPrevious, rule, W + 1250, 1);
    expect(quarter.state).toEqual({ windowStartMs: W + 1000, current: 1, previous: 10 });
    expect(quarter.decision).toEqual({ allowed: true, limit: 10, remaining: 1, resetAtMs: W + 3000, retryAfterMs: 0 });
    const second = counter.consume(quarter.state, rule, W + 1250, 1);
    expect(second.decision.remaining).toBe(0);
    const third = counter.consume(second.state, rule, W + 1250, 1);
    // 10 × (1 − e/1000) + 3 ≤ 10 from e = 300.
    expect(third.decision).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 50 });

    // Halfway: 10 × 0.5 = 5 exactly, so a cost of 5 fits exactly and 6 does not.
    expect(counter.consume(fullPrevious, rule, W + 1500, 5).decision).toMatchObject({ allowed: true, remaining: 0 });
    expect(counter.consume(fullPrevious, rule, W + 1500, 6).decision).toMatchObject({ allowed: false, remaining: 5, retryAfterMs: 100 });

    // The last millisecond: 10 × 0.001 = 0.01 still counts against a cost of 10.
    expect(counter.consume(fullPrevious, rule, W + 1999, 9).decision).toMatchObject({ allowed: true, remaining: 0 });
    expect(counter.consume(fullPrevious, rule, W + 1999, 10).decision).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(counter.consume(fullPrevious, rule, W + 2000, 10).decision.allowed).toBe(true);
  });

  it('decides with exact arithmetic where floating point would be off', () => {
    // 15 × (1 − 1/3) + 4 = 14 exactly; in doubles 15 × (1 − 1/3) is 10.000000000000002.
    const tight: AlgorithmRule = { limit: 15, windowMs: 3 };
    const state: SlidingWindowCounterState = { windowStartMs: 6, current: 4, previous: 15 };
    expect(counter.consume(state, tight, 7, 1).decision).toEqual({
      allowed: true,
      limit: 15,
      remaining: 0,
      resetAtMs: 12,
      retryAfterMs: 0,
    });
  });

  it('sends a client who filled the current window into the next one', () => {
    const filled = counter.consume(undefined, rule, W + 500, 10).state;
    // Next window: 10 × (1 − e/1000) ≤ 9 from e = 100.
    expect(counter.consume(filled, rule, W + 600, 1).decision).toEqual({
      allowed: false,
      limit: 10,
      remaining: 0,
      resetAtMs: W + 2000,
      retryAfterMs: 500,
    });
    expect(counter.peek(filled, rule, W + 1099).allowed).toBe(false);
    expect(counter.peek(filled, rule, W + 1100).allowed).toBe(true);
    // A cost of the whole limit must wait for the window after next.
    expect(counter.consume(filled, rule, W + 600, 10).decision.retryAfterMs).toBe(1400);
    expect(counter.consume(filled, rule, W + 1999, 10).decision.allowed).toBe(false);
    expect(counter.consume(filled, rule, W + 2000, 10).decision.allowed).toBe(true);
  });

  it('prevents the fixed window edge burst', () => {
    const endOfWindow = counter.consume(undefined, rule, W + 999, 10).state;
    expect(counter.peek(endOfWindow, rule, W + 1000).allowed).toBe(false);
    expect(counter.peek(endOfWindow, rule, W + 1000).retryAfterMs).toBe(100);
  });

  it('rolls the windows: one back becomes previous, two back is forgotten', () => {
    const state: SlidingWindowCounterState = { windowStartMs: W, current: 4, previous: 7 };
    expect(counter.consume(state, rule, W + 1000, 1).state).toEqual({ windowStartMs: W + 1000, current: 1, previous: 4 });
    expect(counter.consume(state, rule, W + 2000, 1).state).toEqual({ windowStartMs: W + 2000, current: 1, previous: 0 });
  });

  it('resets (and expires) when the estimate reaches 0', () => {
    expect(counter.expiresAtMs({ windowStartMs: W, current: 1, previous: 0 }, rule)).toBe(W + 2000);
    expect(counter.expiresAtMs({ windowStartMs: W, current: 0, previous: 3 }, rule)).toBe(W + 1000);
    // Denied with only the previous window counting: back to full at the end of this window.
    const onlyPrevious: SlidingWindowCounterState = { windowStartMs: W + 1000, current: 0, previous: 10 };
    expect(counter.peek(onlyPrevious, rule, W + 1000).resetAtMs).toBe(W + 2000);
    // A cost above the limit waits for that reset.
    expect(counter.consume(onlyPrevious, rule, W + 1400, 11).decision).toEqual({
      allowed: false,
      limit: 10,
      remaining: 4,
      resetAtMs: W + 2000,
      retryAfterMs: 600,
    });
    expect(counter.consume(undefined, rule, W + 1400, 11).decision).toMatchObject({ allowed: false, resetAtMs: W + 1400, retryAfterMs: 0 });
  });

  it('finds the first admitting millisecond, checked against a scan of every millisecond', () => {
    const small: AlgorithmRule = { limit: 6, windowMs: 20 };
    let checked = 0;
    for (let previous = 0; previous <= 6; previous++) {
      for (let current = 0; current <= 6; current++) {
        for (let elapsed = 0; elapsed < 20; elapsed++) {
          for (let cost = 1; cost <= 6; cost++) {
            const state: SlidingWindowCounterState = { windowStartMs: 100, current, previous };
            const now = 100 + elapsed;
            const { decision } = counter.consume(state, small, now, cost);
            if (decision.allowed) continue;
            let first = now;
            while (!counter.consume(state, small, first, cost).decision.allowed) first++;
            if (first - now !== decision.retryAfterMs) throw new Error(`${JSON.stringify({ state, now, cost, decision, first })}`);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('is an approximation: traffic bunched at the end of the previous window is under-counted', () => {
    const bunched = counter.consume(undefined, rule, W + 999, 10).state;
    // Half way through the next window the estimate is 10 × 0.5 = 5, so 5 more pass, though all
    // 10 earlier requests are still within the last 1000 ms: 15 in 502 ms, below 2 × limit.
    expect(counter.consume(bunched, rule, W + 1500, 5).decision.allowed).toBe(true);
    expect(counter.consume(bunched, rule, W + 1500, 6).decision.allowed).toBe(false);
  });

  it('never lets more than 2 × limit through in any span of windowMs', () => {
    const small: AlgorithmRule = { limit: 5, windowMs: 50 };
    const admitted: number[] = [];
    let state: SlidingWindowCounterState | undefined;
    let seed = 12345;
    for (let t = 1000; t < 3000; t += (seed >>> 16) % 4) {
      seed = (seed * 1103515245 + 12345) % 2147483648; // a fixed pseudo-random gap of 0–3 ms
      const outcome = counter.consume(state, small, t, 1);
      if (outcome.decision.allowed) admitted.push(t);
      state = outcome.state;
    }
    const busiest = Math.max(...admitted.map((from) => admitted.filter((t) => t >= from && t < from + 50).length));
    expect(busiest).toBeGreaterThanOrEqual(5);
    expect(busiest).toBeLessThanOrEqual(10);
    expect(admitted.length).toBeGreaterThan(100);
  });
});
