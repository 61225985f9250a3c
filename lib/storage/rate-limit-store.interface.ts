import type { ConsumeResult, StoreRule } from '../core/rule-decision.js';

/**
 * Where rate-limit state lives. One key holds the state of one client for one rule (the engine
 * composes keys from the rule name, its scope or target, and the client). Each decision is a
 * single call, so a shared store (MongoDB) answers in one round trip.
 *
 * `consume` may answer with the result itself or with a promise of it: a store that decides in
 * process (the memory store) answers synchronously, and the engine then needs no promise and no
 * timer for the request. `get` and `reset` always return promises.
 *
 * Implementations must be safe under concurrency: N concurrent `consume` calls for one key admit
 * exactly what the algorithm admits when they are run one after another.
 */
export interface RateLimitStore {
  /**
   * Counts a request of `cost` units against `key` under `rule` at `nowMs` (epoch ms) and returns
   * the decision: allowed, remaining, reset time, retry-after and, when blocked, blocked-until.
   * A synchronous throw counts as a failure, like a rejection.
   */
  consume(key: string, rule: StoreRule, nowMs: number, cost: number): ConsumeResult | Promise<ConsumeResult>;
  /** The decision a request of cost 1 would get now, without counting it; `null` when the key holds no live state. */
  get(key: string, rule: StoreRule, nowMs: number): Promise<ConsumeResult | null>;
  /** Forgets everything stored for `key` (counters and rule blocks). */
  reset(key: string): Promise<void>;
}
