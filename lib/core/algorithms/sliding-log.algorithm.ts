/**
 * Sliding log: remembers when each admitted request was made (and its cost) and admits a request
 * iff the cost units made in the last `windowMs`, plus its own, fit in `limit`.
 *
 * - Memory: up to two numbers per admitted request in the last `windowMs` (requests in the same
 *   millisecond share one entry), so up to 2 × `limit` numbers per key.
 * - Accuracy: exact, no approximation and no edge bursts.
 * - Pick it when exactness matters more than memory: low limits (logins, password resets, costly
 *   operations). For high limits prefer the sliding window counter.
 *
 * Conventions:
 * - An entry made at t counts during [t, t + windowMs): it is gone at exactly t + windowMs.
 * - Entries are pruned on every call; a denial returns the state untouched, so pruning only shows
 *   up in the state stored after the next admitted request.
 * - `retryAfterMs` is the time until enough of the oldest entries have expired for the cost to fit.
 * - `resetAtMs` and `expiresAtMs` are when the newest entry expires (the log is empty).
 * - A cost larger than `limit` can never pass: it is denied with `retryAfterMs = resetAtMs - now`
 *   (the time until the log is empty; 0 when it already is).
 * - Each instance stamps its entries with its own clock, and the log is kept in time order. An entry
 *   later than `nowMs` (written by a clock running ahead) counts until it expires; it is never
 *   discarded early, and it never makes this instance's own entries expire later: only the units
 *   the faster writer admitted are seen for the skew longer, so a skew within the documented
 *   tolerance never locks a key out beyond the window.
 * - A refund takes its cost off the entry made at `reservedAtMs` (requests of one millisecond share
 *   it) and drops the entry once nothing is left of it; an entry that has expired, or is gone, has
 *   nothing left to give back. Exact.
 */
import type { Algorithm, AlgorithmRule, Decision, Outcome } from './algorithm.interface.js';

export interface SlidingLogState {
  /**
   * Admitted requests, oldest first, as flat pairs: `[time0, cost0, time1, cost1, …]`, times in
   * epoch ms and non-decreasing.
   */
  readonly log: readonly number[];
}

function consume(state: SlidingLogState | undefined, rule: AlgorithmRule, nowMs: number, cost: number): Outcome<SlidingLogState> {
  const { limit, windowMs } = rule;
  const log = state?.log ?? [];

  // Skip the entries made at or before now − windowMs: they no longer count.
  let first = 0;
  while (first < log.length && log[first] <= nowMs - windowMs) first += 2;
  let used = 0;
  for (let i = first + 1; i < log.length; i += 2) used += log[i];

  if (used + cost <= limit) {
    const kept = log.slice(first);
    // In time order: after the entries up to now (entries from a clock running ahead stay after it).
    let at = kept.length;
    while (at > 0 && kept[at - 2] > nowMs) at -= 2;
    // Same millisecond as an entry: add to it rather than grow the log.
    if (at > 0 && kept[at - 2] === nowMs) kept[at - 1] += cost;
    else kept.splice(at, 0, nowMs, cost);
    const decision: Decision = {
      allowed: true,
      limit,
      remaining: Math.max(0, limit - used - cost),
      resetAtMs: kept[kept.length - 2] + windowMs,
      retryAfterMs: 0,
    };
    return { state: { log: kept }, decision };
  }

  const resetAtMs = first < log.length ? log[log.length - 2] + windowMs : nowMs;
  let retryAtMs = resetAtMs;
  if (cost <= limit) {
    // Walk the oldest entries until enough has expired; entry i is gone at its time + windowMs.
    let excess = used + cost - limit;
    for (let i = first; i < log.length; i += 2) {
      excess -= log[i + 1];
      if (excess <= 0) {
        retryAtMs = log[i] + windowMs;
        break;
      }
    }
  }
  const decision: Decision = {
    allowed: false,
    limit,
    remaining: Math.max(0, limit - used),
    resetAtMs,
    retryAfterMs: retryAtMs - nowMs,
  };
  return { state, decision };
}

function refund(state: SlidingLogState | undefined, rule: AlgorithmRule, nowMs: number, cost: number, reservedAtMs: number): SlidingLogState | undefined {
  if (state === undefined || reservedAtMs <= nowMs - rule.windowMs) return state;
  const { log } = state;
  // Times are non-decreasing, and requests of one millisecond share one entry.
  let i = 0;
  while (i < log.length && log[i] < reservedAtMs) i += 2;
  if (i >= log.length || log[i] !== reservedAtMs) return state;
  const kept = log.slice();
  if (log[i + 1] > cost) kept[i + 1] -= cost;
  else kept.splice(i, 2);
  return { log: kept };
}

export const slidingLog: Algorithm<SlidingLogState> = {
  name: 'sliding-log',
  consume,
  peek: (state, rule, nowMs) => consume(state, rule, nowMs, 1).decision,
  refund,
  expiresAtMs: (state, rule) => (state === undefined || state.log.length === 0 ? 0 : state.log[state.log.length - 2] + rule.windowMs),
};
