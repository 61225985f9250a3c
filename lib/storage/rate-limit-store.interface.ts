import type { ConsumeResult, StoreRule } from '../core/rule-decision.js';

/**
 * Where rate-limit state lives. One key holds the state of one client for one rule (the guard
 * composes keys from the rule name, its scope or route, and the client). Every method is async
 * and each decision is a single call, so a shared store (MongoDB) answers in one round trip.
 *
 * Implementations must be safe under concurrency: N concurrent `consume` calls for one key admit
 * exactly what the algorithm admits when they are run one after another.
 */
export interface RateLimitStore {
  /**
   * Counts a request of `cost` units against `key` under `rule` at `nowMs` (epoch ms) and returns
   * the decision: allowed, remaining, reset time, retry-after and, when blocked, blocked-until.
   */
  consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult>;
  /** The decision a request of cost 1 would get now, without counting it; `null` when the key holds no live state. */
  get(key: string, rule: StoreRule, nowMs: number): Promise<ConsumeResult | null>;
  /** Forgets everything stored for `key` (counters and rule blocks). */
  reset(key: string): Promise<void>;
}
