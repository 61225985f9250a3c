/**
 * Fixed window: counts cost units in windows of `windowMs` aligned to the Unix epoch
 * (window index = floor(now / windowMs)), so every process and every key agrees on where a
 * window begins, and a window's end is a predictable reset time.
 *
 * - Memory: two numbers per key (`windowStartMs`, `count`).
 * - Accuracy: exact within a window, but bursty at the edges: a client may spend `limit` at the
 *   end of one window and `limit` again at the start of the next, i.e. up to 2 × `limit` within a
 *   span much shorter than `windowMs`.
 * - Pick it when the cheapest check is wanted, or for quotas that are naturally "N per minute /
 *   per day, reset at X" and must be easy to explain. Prefer the sliding window counter otherwise.
 *
 * Conventions:
 * - A window covers [start, start + windowMs): a request at exactly start + windowMs belongs to the
 *   next window.
 * - `resetAtMs` is the end of the current window; `expiresAtMs` is the end of the stored window.
 * - A cost larger than `limit` can never pass: it is denied with `retryAfterMs = resetAtMs - now`
 *   (the time until the window is clear).
 * - If the state was written at a later time than `nowMs` (a writer whose clock runs ahead), the
 *   decision is taken at that later time, so a lagging clock never discards newer counts.
 * - A refund takes its cost off the count of the window containing `reservedAtMs`, while that
 *   window is the stored one and has not ended (never below 0); a reservation whose window is over
 *   has been given back by the window's end already. Exact.
 */
import type { Algorithm, AlgorithmRule, Decision, Outcome } from './algorithm.interface.js';

export interface FixedWindowState {
  /** Epoch ms at which the counted window starts (a multiple of `windowMs`). */
  readonly windowStartMs: number;
  /** Cost units admitted in that window. */
  readonly count: number;
}

/**
 * Start of the epoch-aligned window containing `t`; `%` is exact for doubles, unlike floor(t / w) * w.
 * Shared with the sliding window counter and with stores that keep one counter per window.
 */
export function windowStart(t: number, windowMs: number): number {
  const offset = t % windowMs;
  return t - (offset < 0 ? offset + windowMs : offset);
}

function consume(state: FixedWindowState | undefined, rule: AlgorithmRule, nowMs: number, cost: number): Outcome<FixedWindowState> {
  const { limit, windowMs } = rule;
  const start = windowStart(state === undefined ? nowMs : Math.max(nowMs, state.windowStartMs), windowMs);
  const resetAtMs = start + windowMs;
  const count = state !== undefined && state.windowStartMs === start ? state.count : 0;

  if (count + cost <= limit) {
    const used = count + cost;
    const decision: Decision = { allowed: true, limit, remaining: Math.max(0, limit - used), resetAtMs, retryAfterMs: 0 };
    return { state: { windowStartMs: start, count: used }, decision };
  }
  // Denied: whatever the cost (even one above `limit`), the next window is the earliest chance.
  const decision: Decision = {
    allowed: false,
    limit,
    remaining: Math.max(0, limit - count),
    resetAtMs,
    retryAfterMs: resetAtMs - nowMs,
  };
  return { state, decision };
}

function refund(state: FixedWindowState | undefined, rule: AlgorithmRule, nowMs: number, cost: number, reservedAtMs: number): FixedWindowState | undefined {
  const start = windowStart(reservedAtMs, rule.windowMs);
  if (state === undefined || state.windowStartMs !== start || nowMs >= start + rule.windowMs || state.count <= 0) return state;
  return { windowStartMs: start, count: Math.max(0, state.count - cost) };
}

export const fixedWindow: Algorithm<FixedWindowState> = {
  name: 'fixed-window',
  consume,
  peek: (state, rule, nowMs) => consume(state, rule, nowMs, 1).decision,
  refund,
  expiresAtMs: (state, rule) => (state === undefined ? 0 : state.windowStartMs + rule.windowMs),
};
