/** The rate-limiting algorithms Rampart implements. */
export type AlgorithmName = 'fixed-window' | 'sliding-window' | 'sliding-log' | 'token-bucket' | 'gcra';

/** The parameters an algorithm needs from a rule. All durations are milliseconds. */
export interface AlgorithmRule {
  /** Requests (cost units) allowed per `windowMs`. For token bucket and GCRA: the sustained rate. */
  readonly limit: number;
  /** Length of the window in milliseconds. */
  readonly windowMs: number;
  /**
   * Token bucket and GCRA: how many cost units may be spent at once (bucket capacity).
   * Ignored by the window algorithms. Defaults to `limit`.
   */
  readonly burst?: number;
}

/** Everything a response needs from one decision. */
export interface Decision {
  /** Whether this request is admitted. */
  readonly allowed: boolean;
  /** The quota advertised in headers: `limit` for window algorithms, `burst ?? limit` for bucket algorithms. */
  readonly limit: number;
  /** Cost units still available right after this decision (never negative). */
  readonly remaining: number;
  /** Epoch ms at which the quota is fully available again (the window's end, or the bucket full). */
  readonly resetAtMs: number;
  /** 0 when allowed; otherwise ms from now until a request of the same cost would be admitted. */
  readonly retryAfterMs: number;
}

/** The result of consuming: the state to store and the decision to answer with. */
export interface Outcome<S> {
  /** `undefined` only when a request with no prior state is denied (the state is returned unchanged). */
  readonly state: S | undefined;
  readonly decision: Decision;
}

/**
 * A rate-limiting algorithm as pure functions of (state, rule, now). Every store shares them, so
 * the memory store and the Mongo store decide identically. Denied requests leave the state
 * unchanged (a client that waits `retryAfterMs` is admitted), so `consume` returns the input
 * state object itself when it denies.
 *
 * States are plain JSON-serialisable objects of numbers (and, for sliding log, an array of numbers).
 */
export interface Algorithm<S = unknown> {
  readonly name: AlgorithmName;
  /** Decides a request of `cost` units at `nowMs` given the stored state (`undefined`: never seen). */
  consume(state: S | undefined, rule: AlgorithmRule, nowMs: number, cost: number): Outcome<S>;
  /** What `consume` with cost 1 would answer, without consuming. */
  peek(state: S | undefined, rule: AlgorithmRule, nowMs: number): Decision;
  /**
   * Gives back, at `nowMs`, `cost` units that a `consume` admitted at `reservedAtMs` took: the state
   * as if that request had not been counted, as far as the state can tell, and never more. Units go
   * back only to where they were taken (never into a later window), never below zero and never above
   * the capacity; units the algorithm has given back on its own since (an expired window or log
   * entry, a refilled bucket) are not given back again. Returns `state` itself when nothing changes.
   * `cost` must be positive and finite (`refundRule` checks it).
   */
  refund(state: S | undefined, rule: AlgorithmRule, nowMs: number, cost: number, reservedAtMs: number): S | undefined;
  /**
   * Epoch ms from which this state is indistinguishable from no state, so it may be dropped.
   * `undefined` (nothing stored, e.g. the state of a denied first request) gives 0.
   */
  expiresAtMs(state: S | undefined, rule: AlgorithmRule): number;
}

/** How many cost units a bucket algorithm (token bucket, GCRA) admits at once: `burst ?? limit`. */
export function bucketCapacity(rule: Pick<AlgorithmRule, 'limit' | 'burst'>): number {
  return rule.burst ?? rule.limit;
}

/**
 * Most cost units one request can be admitted with: `burst ?? limit` for the bucket algorithms
 * (token bucket, GCRA), `limit` for the window algorithms.
 */
export function ruleCapacity(rule: Pick<AlgorithmRule, 'limit' | 'burst'> & { readonly algorithm: AlgorithmName }): number {
  return rule.algorithm === 'token-bucket' || rule.algorithm === 'gcra' ? bucketCapacity(rule) : rule.limit;
}
