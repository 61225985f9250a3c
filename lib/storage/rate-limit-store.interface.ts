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
 *
 * `refund` is optional, so that a store written before it keeps working for every rule that counts
 * each request. A store without it cannot serve a rule whose units are given back after the request
 * (a rule that counts some outcomes only): such a rule is a startup error on such a store (check with
 * `supportsRefund`; the error names the store and how to fix it), rather than count requests it was
 * told not to count. Should a refund reach such a store anyway, the units stay counted (the safe
 * side) and the store gateway logs it once as an error.
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
  /**
   * Gives back, at `nowMs`, `cost` units that a `consume` at `reservedAtMs` admitted under `rule` for
   * `key`, as the rule's algorithm does (`refundRule` in core/rule-decision): only to the window
   * they were taken from, never below zero, never above the capacity; a running rule block stays.
   * Nothing happens when nothing is left to give back (the window is over, nothing is counted).
   * After a `reset`, a reservation made before it is not told apart from requests counted since: its
   * refund gives back units they took in the same window (never more than `cost`; the sliding log
   * only at a millisecond one of them shares). Safe under concurrency like `consume`: one atomic
   * operation per key, never a read-then-write that could lose another instance's count. A store that decides in process answers synchronously.
   * The caller gives back only what an admitted `consume` took, once.
   */
  refund?(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number): void | Promise<void>;
}

/** Whether `store` can give units back (see `RateLimitStore.refund`). */
export function supportsRefund(store: RateLimitStore): store is RateLimitStore & Required<Pick<RateLimitStore, 'refund'>> {
  return typeof store.refund === 'function';
}
