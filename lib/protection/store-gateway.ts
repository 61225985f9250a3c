import { ruleCapacity } from '../core/algorithms/algorithm.interface.js';
import { getAlgorithm } from '../core/algorithms/index.js';
import type { RampartLogger } from '../core/logger.js';
import type { ConsumeResult, StoreRule } from '../core/rule-decision.js';
import { isThenable } from '../core/thenable.js';
import type { StoreErrorPolicy } from '../engine/rule.interface.js';
import { MemoryRateLimitStore } from '../storage/memory-rate-limit.store.js';
import { supportsRefund, type RateLimitStore } from '../storage/rate-limit-store.interface.js';
import { DenialCache } from './denial-cache.js';
import { RefundFailures } from './refund-failures.js';
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
  /** Where refunds that fail are reported. */
  readonly logger: RampartLogger;
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
 *
 * `refund` gives units back to where the `consume` it undoes counted them, off the request's path:
 * it never throws and never rejects, and a failure is logged once per burst (see RefundFailures).
 */
export class StoreGateway {
  /** Counts requests without the store, with `storeFallback` (created on first use). */
  private fallbackStore: MemoryRateLimitStore | undefined;
  private readonly denials: DenialCache;
  /** Cost units of each key's calls the store has not answered yet. */
  private readonly inFlight = new Map<string, number>();
  /** Answers that the fallback store gave, so that their refund goes there too. */
  private readonly fallbackAnswers = new WeakSet<ConsumeResult>();
  /** Refunds that failed or were skipped, reported once per burst. */
  readonly refundFailures: RefundFailures;

  constructor(
    private readonly store: RateLimitStore,
    readonly health: StoreHealth,
    private readonly options: StoreGatewayOptions,
    /** Times each store call while `timings.active` (the Prometheus metrics are registered). */
    private readonly timings?: StoreTimings,
  ) {
    this.denials = new DenialCache(options.denialCacheSize);
    this.refundFailures = new RefundFailures(options.logger);
  }

  /** Whether the store can give units back (a rule that counts only some outcomes needs it). */
  get refunds(): boolean {
    return supportsRefund(this.store);
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

  /**
   * Gives back the `cost` units that a `consume` of `key` at `reservedAtMs` took, `answer` being what
   * that `consume` returned: nothing when it took nothing (a denial, or the outage policy's
   * `allow` / `deny`); to the fallback store when that answered it; else to the store, within
   * `storeTimeoutMs`, its failure counted by StoreHealth like a request's (by `client`, its address
   * key). A remembered denial of `key` is forgotten (a block's is kept: a refund never lifts a block).
   * While the store is down the units stay counted. Never throws nor rejects; the promise (for a store
   * that answers with one) settles once the refund is done, failed or abandoned.
   */
  refund(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number, answer?: Counted, client: string = key): void | Promise<void> {
    if (answer === 'allow' || answer === 'deny' || answer?.allowed === false) return;
    this.denials.forgetCount(key);
    if (answer !== undefined && this.fallbackAnswers.has(answer)) return this.fallbackStore?.refund(key, rule, nowMs, cost, reservedAtMs);
    const { health, refundFailures: failures } = this;
    if (!supportsRefund(this.store)) return failures.unsupported(this.store.constructor?.name ?? 'given as store');
    const call = health.begin();
    if (call === undefined) return failures.failed(key);
    let done: void | Promise<void>;
    try {
      done = this.store.refund(key, rule, nowMs, cost, reservedAtMs);
    } catch (error) {
      health.failed(call, error, client);
      return failures.failed(key, error);
    }
    if (!isThenable(done)) {
      health.succeeded(call);
      return failures.succeeded();
    }
    const pending = done;
    return new Promise((resolve) =>
      settleWithin(
        () => pending,
        this.options.storeTimeoutMs,
        () => {
          health.succeeded(call);
          failures.succeeded();
          resolve();
        },
        (error) => {
          health.failed(call, error, client);
          failures.failed(key, error);
          resolve();
        },
      ),
    );
  }

  /**
   * What the store would answer a request of cost 1 on `key` now, without counting it (`get`):
   * `null` when nothing is stored. Within `storeTimeoutMs` (its failure counted by StoreHealth as
   * `client`'s, its address key); while the store is down, or for a call that failed, what the
   * fallback store holds with `storeFallback` (it counted meanwhile), else undefined. Never rejects.
   */
  peek(key: string, rule: StoreRule, nowMs: number, client: string = key): Promise<ConsumeResult | null | undefined> {
    const { health } = this;
    const call = health.begin();
    if (call === undefined) return this.peekWithoutStore(key, rule, nowMs);
    return new Promise((resolve) =>
      settleWithin(
        () => this.store.get(key, rule, nowMs),
        this.options.storeTimeoutMs,
        (result) => {
          health.succeeded(call);
          resolve(result);
        },
        (error) => {
          health.failed(call, error, client);
          resolve(this.peekWithoutStore(key, rule, nowMs));
        },
      ),
    );
  }

  private peekWithoutStore(key: string, rule: StoreRule, nowMs: number): Promise<ConsumeResult | null | undefined> {
    return this.options.storeFallback ? (this.fallbackStore?.get(key, rule, nowMs) ?? Promise.resolve(null)) : Promise.resolve(undefined);
  }

  /**
   * `answer` (an admission this gateway gave) with the time its units were taken: a copy the
   * gateway still knows as its own, so that its refund goes where it was counted (the fallback store's).
   */
  takenAt(answer: ConsumeResult, reservedAtMs: number): ConsumeResult {
    const copy = { ...answer, reservedAtMs };
    if (this.fallbackAnswers.has(answer)) this.fallbackAnswers.add(copy);
    return copy;
  }

  /** Forgets `key`'s remembered denial by its count (a block's stays): see `DenialCache.forgetCount`. */
  forgetDenial(key: string): void {
    this.denials.forgetCount(key);
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
      const answer = this.fallbackStore.consume(key, rule, nowMs, cost);
      if (answer.allowed) this.fallbackAnswers.add(answer);
      return answer;
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
