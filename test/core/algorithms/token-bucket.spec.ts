import type { AlgorithmRule } from '../../../lib/core/algorithms/algorithm.interface.js';
import { tokenBucket, type TokenBucketState } from '../../../lib/core/algorithms/token-bucket.algorithm.js';

const T = 1_700_000_000_123;
/** One token every 100 ms, up to 20. */
const rule: AlgorithmRule = { limit: 10, windowMs: 1000, burst: 20 };
const empty: TokenBucketState = { tokens: 0, updatedAtMs: T };

describe('token bucket', () => {
  it('starts full, at burst capacity', () => {
    const { state, decision } = tokenBucket.consume(undefined, rule, T, 1);
    expect(state).toEqual({ tokens: 19, updatedAtMs: T });
    expect(decision).toEqual({ allowed: true, limit: 20, remaining: 19, resetAtMs: T + 100, retryAfterMs: 0 });
    expect(tokenBucket.consume(undefined, rule, T, 20).decision).toMatchObject({ allowed: true, remaining: 0, resetAtMs: T + 2000 });
    // Capacity defaults to the limit.
    expect(tokenBucket.peek(undefined, { limit: 10, windowMs: 1000 }, T)).toMatchObject({ limit: 10, remaining: 9 });
  });

  it('refills one token per windowMs / limit', () => {
    expect(tokenBucket.consume(empty, rule, T, 1).decision).toEqual({
      allowed: false,
      limit: 20,
      remaining: 0,
      resetAtMs: T + 2000,
      retryAfterMs: 100,
    });
    expect(tokenBucket.peek(empty, rule, T + 99).allowed).toBe(false);
    expect(tokenBucket.peek(empty, rule, T + 100)).toMatchObject({ allowed: true, remaining: 0 });
    // 2.5 tokens at +250: two fit, a third comes at +300.
    expect(tokenBucket.consume(empty, rule, T + 250, 1).decision).toMatchObject({ allowed: true, remaining: 1 });
    expect(tokenBucket.consume(empty, rule, T + 250, 2).decision).toMatchObject({ allowed: true, remaining: 0 });
    expect(tokenBucket.consume(empty, rule, T + 250, 3).decision).toMatchObject({ allowed: false, remaining: 2, retryAfterMs: 50 });
    // The fractional half token is kept.
    const after = tokenBucket.consume(empty, rule, T + 250, 2).state;
    expect(after).toEqual({ tokens: 0.5, updatedAtMs: T + 250 });
    expect(tokenBucket.peek(after, rule, T + 299).allowed).toBe(false);
    expect(tokenBucket.peek(after, rule, T + 300).allowed).toBe(true);
  });

  it('never holds more than its capacity', () => {
    const { decision } = tokenBucket.consume(empty, rule, T + 1_000_000, 1);
    expect(decision).toEqual({ allowed: true, limit: 20, remaining: 19, resetAtMs: T + 1_000_100, retryAfterMs: 0 });
    expect(tokenBucket.expiresAtMs(empty, rule)).toBe(T + 2000);
    expect(tokenBucket.expiresAtMs({ tokens: 19.5, updatedAtMs: T }, rule)).toBe(T + 50);
  });

  it('rounds waits for a fractional refill up to the next whole millisecond', () => {
    const thirds: AlgorithmRule = { limit: 3, windowMs: 1000 };
    const drained = tokenBucket.consume(undefined, thirds, 0, 3).state;
    // One token takes 333⅓ ms.
    expect(tokenBucket.peek(drained, thirds, 0).retryAfterMs).toBe(334);
    expect(tokenBucket.peek(drained, thirds, 333).allowed).toBe(false);
    expect(tokenBucket.peek(drained, thirds, 334).allowed).toBe(true);
    // Full again exactly at 1000 ms: 3 × 333⅓ is not rounded below 3.
    expect(tokenBucket.consume(drained, thirds, 999, 3).decision.allowed).toBe(false);
    expect(tokenBucket.consume(drained, thirds, 1000, 3).decision).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('accumulates no floating-point error over many partial refills', () => {
    // 0.3 tokens per ms: summing 0.3 ten times in doubles gives 2.9999999999999996, not 3.
    const r: AlgorithmRule = { limit: 3, windowMs: 10, burst: 3 };
    let seed = 77;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    // Reference in integer tenths of a token.
    let units = 30;
    let state: TokenBucketState | undefined;
    let now = 0;
    let admitted = 0;
    for (let i = 0; i < 20_000; i++) {
      const elapsed = random(4);
      now += elapsed;
      units = Math.min(30, units + elapsed * 3);
      const cost = 1 + random(2);
      const { state: next, decision } = tokenBucket.consume(state, r, now, cost);
      const fits = units >= cost * 10;
      if (fits) units -= cost * 10;
      expect(decision.allowed).toBe(fits);
      expect(decision.remaining).toBe(Math.floor(units / 10));
      if (fits) admitted++;
      state = next;
    }
    expect(admitted).toBeGreaterThan(5000);
    expect(Math.abs(state!.tokens * 10 - units)).toBeLessThan(1e-6);
  });

  it('denies a cost above the capacity until the bucket is full', () => {
    expect(tokenBucket.consume(undefined, rule, T, 21).decision).toEqual({
      allowed: false,
      limit: 20,
      remaining: 20,
      resetAtMs: T,
      retryAfterMs: 0,
    });
    expect(tokenBucket.consume(empty, rule, T + 500, 21).decision).toMatchObject({ allowed: false, remaining: 5, retryAfterMs: 1500 });
  });

  it('spends costly requests in one go', () => {
    const { state, decision } = tokenBucket.consume(undefined, rule, T, 15);
    expect(decision.remaining).toBe(5);
    expect(tokenBucket.consume(state, rule, T, 6).decision).toMatchObject({ allowed: false, retryAfterMs: 100 });
    expect(tokenBucket.consume(state, rule, T + 100, 6).decision.allowed).toBe(true);
  });

  it('does not refill twice for a writer whose clock runs ahead', () => {
    const ahead: TokenBucketState = { tokens: 1, updatedAtMs: T + 500 };
    const { state, decision } = tokenBucket.consume(ahead, rule, T, 1);
    expect(state).toEqual({ tokens: 0, updatedAtMs: T + 500 });
    expect(decision).toMatchObject({ allowed: true, remaining: 0 });
    expect(tokenBucket.peek(state, rule, T + 550)).toMatchObject({ allowed: false, retryAfterMs: 50 });
  });
});
