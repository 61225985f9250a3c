import { ruleCapacity } from '../core/algorithms/algorithm.interface.js';
import { getAlgorithm } from '../core/algorithms/index.js';
import type { ConsumeResult, StoreRule } from '../core/rule-decision.js';
import { isThenable } from '../core/thenable.js';
import type { StoreErrorPolicy } from '../engine/rule.interface.js';
import { MemoryRateLimitStore } from '../storage/memory-rate-limit.store.js';
import type { RateLimitStore } from '../storage/rate-limit-store.interface.js';
import { DenialCache } from './denial-cache.js';
import type { StoreTimings } from '../observability/store-timings.js';
import { settleWithin, type StoreHealth } from './store-health.js';

/** One rule's answer: the store's decision, or the outage policy's `allow` / `deny`. */
export type Counted = ConsumeResult | 'allow' | 'deny';

export interface StoreGatewayOptions {
  /** Longest wait for one call on a request. */
  readonly storeTimeoutMs: number;
  /** Count in an in-process memory store while the store is down, or for a call that failed. */
  readonly storeFallback: boolean;
  /** The module's outage policy, for rules without their own. */
  readonly onStoreError: StoreErrorPolicy;
  /** Most keys whose denial is remembered until its retry time (0: none). */
  readonly denialCacheSize: number;
}

/**
 * The rate-limit store as a request sees it:
 * - a key known to be denied (a denial remembered until its retry time, see DenialCache) is
 *   answered at once, without the store, even while it is down;
 * - a key whose decisions in flight already cover its rule's whole capacity is denied at once
 *   (`estimated`), so that one client's burst cannot pile calls up behind one another;
 * - otherwise the store is called, each call bounded by `storeTimeoutMs`, its success or failure
 *   reported to StoreHealth. A call that fails or times out is answered without the store: the
 *   fallback memory store's decision with `storeFallback`, otherwise the rule's `onStoreError`;
 *   and while the store is down, every call is answered so, at once.
 *
 * A store that answers synchronously (the memory store) is answered synchronously, with no promise
 * and no timer.
 */
export class StoreGateway {
  /** Counts requests without the store, with `storeFallback` (created on first use). */
  private fallbackStore: MemoryRateLimitStore | undefined;
  private readonly denials: DenialCache;
  /** Cost units of each key's calls the store has not answered yet. */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly store: RateLimitStore,
    readonly health: StoreHealth,
    private readonly options: StoreGatewayOptions,
    /** Times each store call while `timings.active` (the Prometheus metrics are registered). */
    private readonly timings?: StoreTimings,
  ) {
    this.denials = new DenialCache(options.denialCacheSize);
  }

  /** Keys whose denial is remembered. */
  get knownDenials(): number {
    return this.denials.size;
  }

  /**
   * Counts one request of `client` (its address key: what the breaker tells clients apart by) under
   * `key`. Answers from memory when a denial of `key` is known to hold, else from the store within
   * `storeTimeoutMs`, else by the outage policy.
   */
  consume(
    key: string,
    rule: StoreRule,
    onStoreError: StoreErrorPolicy | undefined,
    nowMs: number,
    cost: number,
    client: string = key,
  ): Counted | Promise<Counted> {
    const known = this.denials.answer(key, rule, nowMs, cost);
    if (known !== undefined) return known;
    const { health } = this;
    const call = health.begin();
    if (call === undefined) return this.withoutStore(key, rule, onStoreError, nowMs, cost);
    const inFlight = this.inFlight.size === 0 ? 0 : (this.inFlight.get(key) ?? 0);
    if (inFlight > 0 && inFlight + cost > ruleCapacity(rule)) return pileUpDenial(rule, nowMs, inFlight, cost);
    let answer: ConsumeResult | Promise<ConsumeResult>;
    const startedAt = this.timings?.active === true ? performance.now() : -1;
    try {
      answer = this.store.consume(key, rule, nowMs, cost);
    } catch (error) {
      if (startedAt >= 0) this.timed(startedAt);
      health.failed(call, error, client);
      return this.withoutStore(key, rule, onStoreError, nowMs, cost);
    }
    if (!isThenable(answer)) {
      if (startedAt >= 0) this.timed(startedAt);
      health.succeeded(call);
      this.denials.note(key, rule, nowMs, cost, answer);
      return answer;
    }
    const pending = this.track(key, cost, answer);
    return new Promise((resolve) =>
      settleWithin(
        () => pending,
        this.options.storeTimeoutMs,
        (result) => {
          if (startedAt >= 0) this.timed(startedAt);
          health.succeeded(call);
          this.denials.note(key, rule, nowMs, cost, result);
          resolve(result);
        },
        (error) => {
          if (startedAt >= 0) this.timed(startedAt);
          health.failed(call, error, client);
          resolve(this.withoutStore(key, rule, onStoreError, nowMs, cost));
        },
      ),
    );
  }

  /** Records the latency of a `consume` call that began at `startedAt` (`performance.now()`); a timeout counts as its wait. */
  private timed(startedAt: number): void {
    this.timings!.observe('consume', performance.now() - startedAt);
  }

  /** Counts `cost` in flight for `key` until the store answers or fails (not merely times out). */
  private track(key: string, cost: number, answer: Promise<ConsumeResult>): Promise<ConsumeResult> {
    const { inFlight } = this;
    inFlight.set(key, (inFlight.get(key) ?? 0) + cost);
    const release = () => {
      const left = (inFlight.get(key) ?? 0) - cost;
      if (left > 0) inFlight.set(key, left);
      else inFlight.delete(key);
    };
    answer.then(release, release);
    return answer;
  }

  private withoutStore(key: string, rule: StoreRule, onStoreError: StoreErrorPolicy | undefined, nowMs: number, cost: number): Counted {
    if (this.options.storeFallback) {
      this.fallbackStore ??= new MemoryRateLimitStore();
      return this.fallbackStore.consume(key, rule, nowMs, cost);
    }
    return onStoreError ?? this.options.onStoreError;
  }
}

/**
 * The denial of a request of `cost` on a key whose calls in flight already hold `inFlight` cost
 * units of a rule's capacity: what the rule would answer if they were all admitted now. Those in
 * flight use the capacity, or are denied because it is used already, so this request would be
 * denied too (unless time frees some before the store sees it): denying it at once never admits
 * more than the store would.
 */
function pileUpDenial(rule: StoreRule, nowMs: number, inFlight: number, cost: number): ConsumeResult {
  const algorithm = getAlgorithm(rule.algorithm);
  const ahead = algorithm.consume(undefined, rule, nowMs, Math.min(inFlight, ruleCapacity(rule))).state;
  const { decision } = algorithm.consume(ahead, rule, nowMs, cost);
  return { ...decision, allowed: false, remaining: 0, estimated: true };
}
