import type { AlgorithmRule } from '../../../lib/core/algorithms/algorithm.interface.js';
import { fixedWindow, type FixedWindowState } from '../../../lib/core/algorithms/fixed-window.algorithm.js';

const rule: AlgorithmRule = { limit: 5, windowMs: 1000 };
/** A window start: a multiple of 1000. */
const W = 1_700_000_000_000;

function spend(state: FixedWindowState | undefined, nowMs: number, times: number): FixedWindowState | undefined {
  for (let i = 0; i < times; i++) {
    const outcome = fixedWindow.consume(state, rule, nowMs, 1);
    expect(outcome.decision.allowed).toBe(true);
    state = outcome.state;
  }
  return state;
}

describe('fixed window', () => {
  it('aligns windows to the epoch, whenever the first request comes', () => {
    const { state, decision } = fixedWindow.consume(undefined, rule, W + 437, 1);
    expect(state).toEqual({ windowStartMs: W, count: 1 });
    expect(decision).toEqual({ allowed: true, limit: 5, remaining: 4, resetAtMs: W + 1000, retryAfterMs: 0 });
    expect(fixedWindow.expiresAtMs(state, rule)).toBe(W + 1000);
  });

  it('counts the last millisecond in the old window and start + windowMs in the new one', () => {
    const full = spend(undefined, W, 5);
    const last = fixedWindow.consume(full, rule, W + 999, 1);
    expect(last.decision).toEqual({ allowed: false, limit: 5, remaining: 0, resetAtMs: W + 1000, retryAfterMs: 1 });
    expect(last.state).toBe(full);
    const next = fixedWindow.consume(full, rule, W + 1000, 1);
    expect(next.decision).toEqual({ allowed: true, limit: 5, remaining: 4, resetAtMs: W + 2000, retryAfterMs: 0 });
    expect(next.state).toEqual({ windowStartMs: W + 1000, count: 1 });
  });

  it('lets 2 × limit through around a window edge (the known weakness)', () => {
    const endOfWindow = spend(undefined, W + 999, 5);
    expect(fixedWindow.consume(endOfWindow, rule, W + 999, 1).decision.allowed).toBe(false);
    const nextWindow = spend(endOfWindow, W + 1000, 5);
    // Ten requests within two milliseconds.
    expect(nextWindow).toEqual({ windowStartMs: W + 1000, count: 5 });
  });

  it('sends a denied client to the window end, whatever the cost', () => {
    const state = spend(undefined, W + 100, 3);
    expect(fixedWindow.consume(state, rule, W + 250, 3).decision).toEqual({
      allowed: false,
      limit: 5,
      remaining: 2,
      resetAtMs: W + 1000,
      retryAfterMs: 750,
    });
    expect(fixedWindow.consume(state, rule, W + 250, 2).decision.allowed).toBe(true);
    // A cost above the limit never fits; the retry is the time until the window is clear.
    expect(fixedWindow.consume(undefined, rule, W + 250, 6).decision).toEqual({
      allowed: false,
      limit: 5,
      remaining: 5,
      resetAtMs: W + 1000,
      retryAfterMs: 750,
    });
  });

  it('forgets an older window entirely', () => {
    const old: FixedWindowState = { windowStartMs: W - 3000, count: 5 };
    expect(fixedWindow.consume(old, rule, W, 5).state).toEqual({ windowStartMs: W, count: 5 });
    expect(fixedWindow.peek(old, rule, W)).toEqual(fixedWindow.peek(undefined, rule, W));
  });

  it('never reports negative remaining when the limit was lowered', () => {
    const state: FixedWindowState = { windowStartMs: W, count: 9 };
    expect(fixedWindow.peek(state, rule, W + 10)).toEqual({
      allowed: false,
      limit: 5,
      remaining: 0,
      resetAtMs: W + 1000,
      retryAfterMs: 990,
    });
  });

  it('keeps a window written by a clock running ahead', () => {
    const ahead: FixedWindowState = { windowStartMs: W + 1000, count: 5 };
    const decision = fixedWindow.peek(ahead, rule, W + 990);
    expect(decision).toEqual({ allowed: false, limit: 5, remaining: 0, resetAtMs: W + 2000, retryAfterMs: 1010 });
    expect(fixedWindow.peek(ahead, rule, W + 2000).allowed).toBe(true);
    expect(fixedWindow.peek(ahead, rule, W + 1999).allowed).toBe(false);
  });

  it('handles windows that do not divide a second, and times before they are aligned', () => {
    const odd: AlgorithmRule = { limit: 1, windowMs: 7 };
    const first = fixedWindow.consume(undefined, odd, 20, 1);
    expect(first.state).toEqual({ windowStartMs: 14, count: 1 });
    expect(fixedWindow.consume(first.state, odd, 20, 1).decision.retryAfterMs).toBe(1);
    expect(fixedWindow.consume(first.state, odd, 21, 1).decision.allowed).toBe(true);
  });
});
