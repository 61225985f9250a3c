import type { ConsumeResult, StoreRule } from '../core/rule-decision.js';

/** One key's known denial. */
interface Denial {
  readonly rule: StoreRule;
  /** Epoch ms until which the key stays denied. */
  readonly untilMs: number;
  /** Lowest cost the denial holds for (a block holds for every cost). */
  readonly minCost: number;
  /** The store's answer, its `retryAfterMs` recomputed on each use. */
  readonly result: ConsumeResult;
}

/**
 * Denials remembered until their retry time, so that a client over a limit is answered without a
 * store call. Exact for every algorithm: a denial of cost `c` at `t` with `retryAfterMs` R means no
 * request of cost `c` or more fits before `t + R` (fixed and sliding windows, sliding log, token
 * bucket, GCRA each compute R as the first instant the state they read admits `c`; other instances
 * only add to that state, which can delay that instant, never bring it forward), and a rule block
 * holds for every cost until it ends. So an answer from here never admits what the store would
 * deny, and denies only what the store would deny too (short of a `reset`, or a refund, on another
 * instance; a refund here forgets the key's denial, see `forgetCount`).
 *
 * A denial the store could only estimate (`estimated`) is not remembered. The least recently
 * noted key goes first past `maxKeys`, so memory stays bounded whatever a client sends.
 */
export class DenialCache {
  private readonly denials = new Map<string, Denial>();

  constructor(private readonly maxKeys: number) {}

  /** Number of keys remembered. */
  get size(): number {
    return this.denials.size;
  }

  /** The remembered denial of a request of `cost` on `key` under `rule` at `nowMs`, if any. */
  answer(key: string, rule: StoreRule, nowMs: number, cost: number): ConsumeResult | undefined {
    if (this.denials.size === 0) return undefined;
    const denial = this.denials.get(key);
    if (denial === undefined || denial.rule !== rule) return undefined;
    if (nowMs >= denial.untilMs) {
      this.denials.delete(key);
      return undefined;
    }
    if (cost < denial.minCost) return undefined;
    const { result } = denial;
    if (result.blockedUntilMs !== undefined) return { ...result, retryAfterMs: denial.untilMs - nowMs, ongoingBlock: true };
    return { ...result, retryAfterMs: denial.untilMs - nowMs };
  }

  /**
   * Forgets `key`'s denial by its count (units were given back, so it may fit before its retry
   * time); a denial by a rule block stays, as a refund never lifts a block.
   */
  forgetCount(key: string): void {
    if (this.denials.size === 0) return;
    if (this.denials.get(key)?.result.blockedUntilMs === undefined) this.denials.delete(key);
  }

  /** Notes the store's answer to a request of `cost` on `key` at `nowMs`. */
  note(key: string, rule: StoreRule, nowMs: number, cost: number, result: ConsumeResult): void {
    if (this.maxKeys === 0) return;
    if (result.allowed) {
      if (this.denials.size > 0) this.denials.delete(key);
      return;
    }
    if (result.estimated || result.retryAfterMs <= 0) return;
    const blocked = result.blockedUntilMs !== undefined;
    this.denials.delete(key);
    this.denials.set(key, { rule, untilMs: nowMs + result.retryAfterMs, minCost: blocked ? 0 : cost, result });
    if (this.denials.size > this.maxKeys) this.denials.delete(this.denials.keys().next().value as string);
  }
}
