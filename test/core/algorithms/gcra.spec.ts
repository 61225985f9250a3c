import type { AlgorithmRule } from '../../../lib/core/algorithms/algorithm.interface.js';
import { gcra, type GcraState } from '../../../lib/core/algorithms/gcra.algorithm.js';
import { tokenBucket } from '../../../lib/core/algorithms/token-bucket.algorithm.js';

const T0 = 1_700_000_000_123;
/** Emission interval 100 ms. */
const rule: AlgorithmRule = { limit: 10, windowMs: 1000 };

function burst(r: AlgorithmRule, nowMs: number, count: number, state?: GcraState): GcraState | undefined {
  for (let i = 0; i < count; i++) {
    const outcome = gcra.consume(state, r, nowMs, 1);
    expect(outcome.decision.allowed).toBe(true);
    state = outcome.state;
  }
  return state;
}

describe('GCRA', () => {
  it('moves the theoretical arrival time one interval per request', () => {
    const { state, decision } = gcra.consume(undefined, rule, T0, 1);
    expect(state).toEqual({ tatMs: T0 + 100 });
    expect(decision).toEqual({ allowed: true, limit: 10, remaining: 9, resetAtMs: T0 + 100, retryAfterMs: 0 });
    expect(gcra.expiresAtMs(state, rule)).toBe(T0 + 100);
    expect(gcra.consume(state, rule, T0, 3).state).toEqual({ tatMs: T0 + 400 });
  });

  it('lets the burst through from idle, then spaces requests one interval apart', () => {
    const full = burst(rule, T0, 10);
    expect(full).toEqual({ tatMs: T0 + 1000 });
    expect(gcra.peek(full, rule, T0)).toEqual({ allowed: false, limit: 10, remaining: 0, resetAtMs: T0 + 1000, retryAfterMs: 100 });
    expect(gcra.peek(full, rule, T0 + 99).allowed).toBe(false);
    let state = burst(rule, T0 + 100, 1, full);
    expect(gcra.peek(state, rule, T0 + 150)).toMatchObject({ allowed: false, retryAfterMs: 50 });
    state = burst(rule, T0 + 200, 1, state);
    expect(gcra.peek(state, rule, T0 + 200).allowed).toBe(false);
    // After a pause, the unused intervals come back as burst.
    expect(gcra.peek(state, rule, T0 + 700)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('with burst 1, enforces strict spacing', () => {
    const strict: AlgorithmRule = { limit: 5, windowMs: 1000, burst: 1 };
    const state = burst(strict, T0, 1);
    expect(gcra.peek(state, strict, T0)).toEqual({ allowed: false, limit: 1, remaining: 0, resetAtMs: T0 + 200, retryAfterMs: 200 });
    expect(gcra.peek(state, strict, T0 + 199)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect(gcra.consume(state, strict, T0 + 200, 1).state).toEqual({ tatMs: T0 + 400 });
  });

  it('keeps a burst larger than the rate', () => {
    const r: AlgorithmRule = { limit: 10, windowMs: 1000, burst: 25 };
    const state = burst(r, T0, 25);
    expect(gcra.peek(state, r, T0)).toMatchObject({ allowed: false, limit: 25, retryAfterMs: 100, resetAtMs: T0 + 2500 });
  });

  it('rounds a fractional interval up to the next whole millisecond', () => {
    const thirds: AlgorithmRule = { limit: 3, windowMs: 1000 };
    const state = burst(thirds, 0, 3);
    expect(gcra.peek(state, thirds, 0)).toMatchObject({ allowed: false, retryAfterMs: 334, resetAtMs: 1000 });
    expect(gcra.peek(state, thirds, 333).allowed).toBe(false);
    expect(gcra.peek(state, thirds, 334)).toMatchObject({ allowed: true, remaining: 0 });
    expect(gcra.consume(state, thirds, 999, 3).decision.allowed).toBe(false);
    expect(gcra.consume(state, thirds, 1000, 3).decision.allowed).toBe(true);
  });

  it('denies a cost above the burst until the client is idle', () => {
    const state = burst(rule, T0, 4);
    expect(gcra.consume(state, rule, T0 + 100, 11).decision).toEqual({
      allowed: false,
      limit: 10,
      remaining: 7,
      resetAtMs: T0 + 400,
      retryAfterMs: 300,
    });
    expect(gcra.consume(undefined, rule, T0, 11).decision).toMatchObject({ allowed: false, remaining: 10, retryAfterMs: 0 });
  });

  it('holds a sustained rate of limit per window, plus the burst, with no drift at high rates', () => {
    const fast: AlgorithmRule = { limit: 10_000, windowMs: 1000, burst: 100 };
    let state: GcraState | undefined;
    let admitted = 0;
    for (let t = T0; t < T0 + 10_000; t++) {
      for (let k = 0; k < 20; k++) {
        const outcome = gcra.consume(state, fast, t, 1);
        if (outcome.decision.allowed) admitted++;
        state = outcome.state;
      }
    }
    // The burst of 100 at the first ms, then 10 per ms (T = 0.1 ms) for the 9 999 ms after it.
    expect(admitted).toBe(100 + 9_999 * 10);
  });

  it('keeps retryAfterMs exact where the grid is finer than doubles resolve at epoch times', () => {
    // q = 4999 grid units per ms: the stored TAT is rounded, but every decision derives from it.
    const fine: AlgorithmRule = { limit: 4999, windowMs: 1000, burst: 40 };
    let state: GcraState | undefined;
    let seed = 5;
    let denials = 0;
    let now = T0;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const bits = seed >>> 16; // the low bits of this generator are not random
      if (bits % 3 === 0) now += 1;
      const cost = 1 + (bits % 4);
      const { state: next, decision } = gcra.consume(state, fine, now, cost);
      if (!decision.allowed) {
        denials++;
        expect(gcra.consume(state, fine, now + decision.retryAfterMs, cost).decision.allowed).toBe(true);
        expect(gcra.consume(state, fine, now + decision.retryAfterMs - 1, cost).decision.allowed).toBe(false);
      }
      state = next;
    }
    expect(denials).toBeGreaterThan(500);
  });

  it('admits exactly what a token bucket of the same rate and capacity admits', () => {
    const rules: AlgorithmRule[] = [
      { limit: 10, windowMs: 1000 },
      { limit: 3, windowMs: 1000, burst: 5 },
      { limit: 7, windowMs: 60_000, burst: 2 },
      { limit: 1000, windowMs: 1000, burst: 10 },
    ];
    for (const r of rules) {
      let seed = 31;
      const random = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return Math.floor((seed / 2147483648) * n);
      };
      let g: unknown;
      let b: unknown;
      let now = T0;
      const interval = r.windowMs / r.limit;
      for (let i = 0; i < 2000; i++) {
        now += random(2) === 0 ? 0 : random(Math.ceil(interval * 2) + 1);
        const cost = 1 + random(3);
        const fromGcra = gcra.consume(g as GcraState | undefined, r, now, cost);
        const fromBucket = tokenBucket.consume(b as never, r, now, cost);
        expect(fromGcra.decision).toEqual(fromBucket.decision);
        g = fromGcra.state;
        b = fromBucket.state;
      }
    }
  });
});
