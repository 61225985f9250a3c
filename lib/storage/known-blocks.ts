import { peekRule, type ConsumeResult, type StoreRule } from '../core/rule-decision.js';
import { RecentKeysMap } from './recent-keys.map.js';

/**
 * The rule blocks a shared store knows locally (key → blocked until, epoch ms), at most `maxSize`,
 * so that a key known to be blocked is answered without a round trip. A block forgotten here is
 * still enforced by the store.
 */
export class KnownBlocks extends RecentKeysMap<number> {
  /**
   * The answer for `key` while a block known here runs at `nowMs`: from the block alone (its `limit`
   * and `resetAtMs` are those of a key with no counts); `undefined` otherwise, forgetting a block
   * that has ended.
   */
  answer(key: string, rule: StoreRule, nowMs: number): ConsumeResult | undefined {
    const blockedUntil = this.get(key);
    if (blockedUntil === undefined) return undefined;
    if (blockedUntil > nowMs) return peekRule({ blockedUntilMs: blockedUntil }, rule, nowMs);
    this.delete(key);
    return undefined;
  }
}
