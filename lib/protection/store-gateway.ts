import type { ConsumeResult, StoreRule } from '../core/rule-decision.js';
import { isThenable } from '../core/thenable.js';
import type { StoreErrorPolicy } from '../engine/rule.interface.js';
import { MemoryRateLimitStore } from '../storage/memory-rate-limit.store.js';
import type { RateLimitStore } from '../storage/rate-limit-store.interface.js';
import { settleWithin, type StoreHealth } from './store-health.js';

/** One rule's answer: the store's decision, or the outage policy's `allow` / `deny`. */
export type Counted = ConsumeResult | 'allow' | 'deny';

export interface StoreGatewayOptions {
  /** Longest wait for one call on a request. */
  readonly storeTimeoutMs: number;
  /** Count in an in-process memory store while the store is down. */
  readonly storeFallback: boolean;
  /** The module's outage policy, for rules without their own. */
  readonly onStoreError: StoreErrorPolicy;
}

/**
 * The rate-limit store as a request sees it: each call bounded by `storeTimeoutMs`, its success or
 * failure reported to StoreHealth, and, while the store is down, an answer at once without calling
 * it: the fallback memory store's decision with `storeFallback`, otherwise the rule's
 * `onStoreError`. A store that answers synchronously (the memory store) is answered synchronously,
 * with no promise and no timer.
 */
export class StoreGateway {
  /** Counts requests while the store is down, with `storeFallback` (created on the first outage). */
  private fallbackStore: MemoryRateLimitStore | undefined;

  constructor(
    private readonly store: RateLimitStore,
    readonly health: StoreHealth,
    private readonly options: StoreGatewayOptions,
  ) {}

  consume(key: string, rule: StoreRule, onStoreError: StoreErrorPolicy | undefined, nowMs: number, cost: number): Counted | Promise<Counted> {
    const { health } = this;
    const call = health.begin();
    if (call === undefined) return this.withoutStore(key, rule, onStoreError, nowMs, cost);
    let answer: ConsumeResult | Promise<ConsumeResult>;
    try {
      answer = this.store.consume(key, rule, nowMs, cost);
    } catch (error) {
      health.failed(call, error);
      return this.withoutStore(key, rule, onStoreError, nowMs, cost);
    }
    if (!isThenable(answer)) {
      health.succeeded(call);
      return answer;
    }
    const pending = answer;
    return new Promise((resolve) =>
      settleWithin(
        () => pending,
        this.options.storeTimeoutMs,
        (result) => {
          health.succeeded(call);
          resolve(result);
        },
        (error) => {
          health.failed(call, error);
          resolve(this.withoutStore(key, rule, onStoreError, nowMs, cost));
        },
      ),
    );
  }

  private withoutStore(key: string, rule: StoreRule, onStoreError: StoreErrorPolicy | undefined, nowMs: number, cost: number): Counted {
    if (this.options.storeFallback) {
      this.fallbackStore ??= new MemoryRateLimitStore();
      return this.fallbackStore.consume(key, rule, nowMs, cost);
    }
    return onStoreError ?? this.options.onStoreError;
  }
}
