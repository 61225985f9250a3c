import { decideRule, peekRule, type ConsumeResult, type RuleState, type StoreRule } from '../core/rule-decision.js';
import type { RateLimitStore } from './rate-limit-store.interface.js';

/** Options of the in-memory store. */
export interface MemoryRateLimitStoreOptions {
  /**
   * Most keys kept at once. Past it the least recently used key is dropped, so memory stays
   * bounded whatever the number of clients.
   * @default 100_000
   */
  maxKeys?: number;
}

interface Entry {
  state: RuleState;
  expiresAtMs: number;
}

/** Expired entries examined (from the least recently used end) per call: amortised O(1) cleanup. */
const SWEEP_PER_CALL = 2;

/**
 * The embedded default store: one process, O(1) per decision, bounded memory. A `Map` kept in
 * least-recently-used order holds the state; expired state is dropped when met and swept a few
 * entries per call, so no timer is needed and none keeps the process alive.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxKeys: number;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 1) {
      throw new RangeError(`MemoryRateLimitStore: maxKeys must be a positive integer, got ${String(options.maxKeys)}.`);
    }
  }

  /** Number of keys currently held (live or not yet swept). */
  get size(): number {
    return this.entries.size;
  }

  consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult> {
    return Promise.resolve(this.consumeSync(key, rule, nowMs, cost));
  }

  /** The synchronous body of `consume`, for callers that need no promise. */
  consumeSync(key: string, rule: StoreRule, nowMs: number, cost: number): ConsumeResult {
    const entry = this.entries.get(key);
    const live = entry !== undefined && entry.expiresAtMs > nowMs ? entry : undefined;
    const outcome = decideRule(live?.state, rule, nowMs, cost);
    if (live !== undefined && outcome.state === live.state) {
      // Nothing changed; still move the key to the recently used end so that an active client is
      // the last to be evicted.
      this.entries.delete(key);
      this.entries.set(key, live);
    } else {
      if (entry !== undefined) this.entries.delete(key);
      this.entries.set(key, { state: outcome.state, expiresAtMs: outcome.expiresAtMs });
    }
    this.sweep(nowMs);
    return outcome.result;
  }

  get(key: string, rule: StoreRule, nowMs: number): Promise<ConsumeResult | null> {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAtMs <= nowMs) return Promise.resolve(null);
    return Promise.resolve(peekRule(entry.state, rule, nowMs));
  }

  reset(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }

  /** Drops everything. */
  clear(): void {
    this.entries.clear();
  }

  private sweep(nowMs: number): void {
    while (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    let examined = 0;
    for (const [key, entry] of this.entries) {
      if (++examined > SWEEP_PER_CALL) break;
      if (entry.expiresAtMs <= nowMs) this.entries.delete(key);
    }
  }
}
