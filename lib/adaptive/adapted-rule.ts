import type { StoreRule } from '../core/rule-decision.js';

/**
 * The rule a client is counted under: `base` with its `limit` replaced by the client's effective
 * limit, and its `burst` (token bucket, GCRA), when it has one, scaled alike, ⌊burst × limit /
 * base.limit⌋, but never below `min` (at least the rule's cost, so a request can still pass).
 */
export function adaptedRule(base: StoreRule, limit: number, min: number): StoreRule {
  if (limit === base.limit) return base;
  if (base.burst === undefined) return Object.freeze({ ...base, limit });
  const burst = Math.max(Math.floor((base.burst * limit) / base.limit + 1e-9), min);
  return Object.freeze({ ...base, limit, burst });
}
