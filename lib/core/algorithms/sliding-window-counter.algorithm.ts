/**
 * Sliding window counter (the default): keeps the counts of the current and the previous
 * epoch-aligned window and estimates the count over the last `windowMs` as
 * `previous × (1 − elapsed / windowMs) + current` (Cloudflare's approximation), which assumes the
 * previous window's requests were spread evenly over it.
 *
 * - Memory: three numbers per key (`windowStartMs`, `current`, `previous`).
 * - Accuracy: smooths away the fixed window's 2 × `limit` edge burst; the estimate can be off when
 *   the previous window's traffic was bunched up, but it never lets more than 2 × `limit` through in
 *   any `windowMs` span and in practice stays very close to an exact sliding log.
 * - Pick it by default: constant memory, no edge bursts, cheap to store in a database.
 *
 * Conventions:
 * - Windows cover [start, start + windowMs): at exactly start + windowMs the current count becomes the
 *   previous one with full weight, decaying linearly to 0 at the end of that window.
 * - Decisions are exact rational arithmetic (both sides multiplied by `windowMs`), with no rounding of
 *   the estimate: a request is admitted iff `previous × (windowMs − elapsed) + (current + cost) ×
 *   windowMs ≤ limit × windowMs`.
 * - `retryAfterMs` is solved exactly for the first millisecond at which the weighted previous count
 *   (or, in the next window, the weighted current count) has decayed enough.
 * - `resetAtMs` is when the estimate reaches 0: the end of the next window when the current window
 *   has a count, else the end of the current window when only the previous one has, else now.
 *   `expiresAtMs` is the same instant for the stored state.
 * - A cost larger than `limit` can never pass: it is denied with `retryAfterMs = resetAtMs - now`
 *   (the time until both windows are clear; 0 when they already are).
 * - If the state was written at a later time than `nowMs` (a writer whose clock runs ahead), the
 *   decision is taken at that later time, so a lagging clock never discards newer counts.
 * - A refund takes its cost off the count of the window containing `reservedAtMs`: the current
 *   count while that window is the stored one, the previous count once the window after it is
 *   (never below 0); once that window no longer weighs on the estimate (two windows later), nothing
 *   is left to give back. Exact.
 */
import type { Algorithm, AlgorithmRule, Decision, Outcome } from './algorithm.interface.js';
import { windowStart } from './fixed-window.algorithm.js';

export interface SlidingWindowCounterState {
  /** Epoch ms at which the current window starts (a multiple of `windowMs`). */
  readonly windowStartMs: number;
  /** Cost units admitted in the current window. */
  readonly current: number;
  /** Cost units admitted in the window just before it. */
  readonly previous: number;
}

/** When the estimate of a window starting at `start` with these counts reaches 0 for good. */
function zeroAtMs(start: number, current: number, previous: number, windowMs: number): number {
  if (current > 0) return start + 2 * windowMs;
  if (previous > 0) return start + windowMs;
  return start;
}

function consume(state: SlidingWindowCounterState | undefined, rule: AlgorithmRule, nowMs: number, cost: number): Outcome<SlidingWindowCounterState> {
  const { limit, windowMs: w } = rule;
  const at = state === undefined ? nowMs : Math.max(nowMs, state.windowStartMs);
  const start = windowStart(at, w);
  const elapsed = at - start;

  // Roll the stored windows forward to the one containing `at`.
  let current = 0;
  let previous = 0;
  if (state !== undefined) {
    if (state.windowStartMs === start) {
      current = state.current;
      previous = state.previous;
    } else if (state.windowStartMs === start - w) {
      previous = state.current;
    }
  }

  // Everything below is in units of 1/w cost unit, so it stays integer for integer inputs.
  const budget = limit * w;
  const weighted = previous * (w - elapsed);
  const allowed = weighted + (current + cost) * w <= budget;
  const used = allowed ? current + cost : current;
  const remaining = Math.max(0, Math.floor((budget - weighted - used * w) / w));
  const resetAtMs = Math.max(at, zeroAtMs(start, used, previous, w));

  if (allowed) {
    const decision: Decision = { allowed, limit, remaining, resetAtMs, retryAfterMs: 0 };
    return { state: { windowStartMs: start, current: used, previous }, decision };
  }
  const retryAtMs = cost > limit ? resetAtMs : admitAtMs(start, current, previous, limit, w, cost);
  const decision: Decision = { allowed, limit, remaining, resetAtMs, retryAfterMs: retryAtMs - nowMs };
  return { state, decision };
}

/**
 * The first millisecond at which a request of `cost` (≤ limit) fits, given it does not fit now.
 * The estimate only decreases with time, so the first fitting instant is found phase by phase.
 */
function admitAtMs(start: number, current: number, previous: number, limit: number, w: number, cost: number): number {
  // Still in this window: need previous × (w − e) ≤ (limit − current − cost) × w.
  const spare = (limit - current - cost) * w;
  if (spare >= 0 && previous > 0) {
    const elapsed = w - Math.floor(spare / previous);
    if (elapsed < w) return start + elapsed;
  }
  // Next window: current becomes previous, weighted by (w − e); need current × (w − e) ≤
  // (limit − cost) × w. e = w means the window after, where everything fits.
  if (current === 0) return start + w;
  const elapsed = Math.max(0, w - Math.floor(((limit - cost) * w) / current));
  return start + w + elapsed;
}

function refund(
  state: SlidingWindowCounterState | undefined,
  rule: AlgorithmRule,
  nowMs: number,
  cost: number,
  reservedAtMs: number,
): SlidingWindowCounterState | undefined {
  const { windowMs: w } = rule;
  const start = windowStart(reservedAtMs, w);
  if (state === undefined || nowMs >= start + 2 * w) return state;
  if (state.windowStartMs === start && state.current > 0) return { ...state, current: Math.max(0, state.current - cost) };
  if (state.windowStartMs === start + w && state.previous > 0) return { ...state, previous: Math.max(0, state.previous - cost) };
  return state;
}

export const slidingWindowCounter: Algorithm<SlidingWindowCounterState> = {
  name: 'sliding-window',
  consume,
  peek: (state, rule, nowMs) => consume(state, rule, nowMs, 1).decision,
  refund,
  expiresAtMs: (state, rule) => (state === undefined ? 0 : zeroAtMs(state.windowStartMs, state.current, state.previous, rule.windowMs)),
};
