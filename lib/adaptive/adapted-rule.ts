import type { StoreRule } from '../core/rule-decision.js';

/**
 * The rule a client is counted under: `base` with its `limit` replaced by the client's effective
 * limit, and its `burst` (token bucket, GCRA), when it has one, scaled alike, ⌊burst × limit /
 * base.limit⌋. Its capacity (the burst, or else the limit) is never below `floor`: `min`, and at
 * least the request's cost, so that a request can pass on an empty counter.
 */
export function adaptedRule(base: StoreRule, limit: number, floor: number): StoreRule {
  if (base.burst === undefined) {
    const capacity = Math.max(limit, floor);
    return capacity === base.limit ? base : Object.freeze({ ...base, limit: capacity });
  }
  if (limit === base.limit) return base;
  const burst = Math.max(Math.floor((base.burst * limit) / base.limit + 1e-9), floor);
  return Object.freeze({ ...base, limit, burst });
}
