import { decideRule, peekRule, refundRule, type ConsumeResult, type RuleState, type StoreRule } from '../core/rule-decision.js';
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
  /**
   * Cursors over `entries`, kept across calls. A Map iterator stays valid while entries are deleted
   * and re-inserted (it moves on to re-inserted ones), whereas a fresh iterator walks over every slot
   * deleted since the map last compacted: with many evictions that made each call O(n).
   *
   * `evictionCursor` deletes every entry it passes, so everything before it is gone and the entry
   * it reaches next is always the least recently used one. `sweepCursor` walks round the map looking
   * for expired entries and leaves live ones in place.
   */
  private evictionCursor: Iterator<string> | undefined;
  private sweepCursor: Iterator<[string, Entry]> | undefined;

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

  /** Decides synchronously: the engine needs no promise for it (see RateLimitStore). */
  consume(key: string, rule: StoreRule, nowMs: number, cost: number): ConsumeResult {
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

  /** Gives back synchronously (see RateLimitStore.refund); the key keeps its place in the eviction order. */
  refund(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number): void {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAtMs <= nowMs) return;
    const refunded = refundRule(entry.state, rule, nowMs, cost, reservedAtMs);
    if (refunded !== undefined) this.entries.set(key, { state: refunded.state, expiresAtMs: refunded.expiresAtMs });
  }

  reset(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }

  /** Drops everything. */
  clear(): void {
    this.entries.clear();
    this.evictionCursor = undefined;
    this.sweepCursor = undefined;
  }

  private sweep(nowMs: number): void {
    while (this.entries.size > this.maxKeys) {
      this.evictionCursor ??= this.entries.keys();
      const oldest = this.evictionCursor.next();
      if (oldest.done) {
        this.evictionCursor = undefined;
        continue;
      }
      this.entries.delete(oldest.value);
    }
    for (let examined = 0; examined < SWEEP_PER_CALL; examined++) {
      this.sweepCursor ??= this.entries.entries();
      const step = this.sweepCursor.next();
      if (step.done) {
        this.sweepCursor = undefined; // wrap around on the next call
        break;
      }
      const [key, entry] = step.value;
      if (entry.expiresAtMs <= nowMs && this.entries.get(key) === entry) this.entries.delete(key);
    }
  }
}
