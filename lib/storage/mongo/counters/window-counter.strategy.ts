import { windowStart, type FixedWindowState } from '../../../core/algorithms/fixed-window.algorithm.js';
import { getAlgorithm } from '../../../core/algorithms/index.js';
import type { SlidingWindowCounterState } from '../../../core/algorithms/sliding-window-counter.algorithm.js';
import { decideRule, type StoreRule } from '../../../core/rule-decision.js';
import { retryOnDuplicateKey } from '../mongo-collection.js';
import type { CounterContext, CounterDecision, CounterStrategy } from './counter-strategy.interface.js';
import { giveBack } from './give-back.js';
import { ruleStateOf, type StateDocument } from './state.document.js';

/** How an algorithm reads the per-window counters `c<window index>` of a document. */
export interface WindowCounters {
  /** How many windows count at a time, the current one last. */
  readonly windowsCounted: 1 | 2;
  /** The algorithm's state for the window starting at `windowStartMs`, from its count and the one before. */
  state(windowStartMs: number, current: number, previous: number): unknown;
}

export const FIXED_WINDOW_COUNTERS: WindowCounters = {
  windowsCounted: 1,
  state: (windowStartMs, count) => ({ windowStartMs, count }) satisfies FixedWindowState,
};

export const SLIDING_WINDOW_COUNTERS: WindowCounters = {
  windowsCounted: 2,
  state: (windowStartMs, current, previous) => ({ windowStartMs, current, previous }) satisfies SlidingWindowCounterState,
};

/** The window containing `nowMs`: its start and its index (start / windowMs, the counter's name). */
function windowAt(rule: StoreRule, nowMs: number): { startMs: number; index: number } {
  const startMs = windowStart(nowMs, rule.windowMs);
  return { startMs, index: Math.round(startMs / rule.windowMs) };
}

const counter = (index: number) => `c${index}` as const;

/**
 * Fixed window and sliding window counter: `$inc` of the current window's counter, returning the
 * pre-image. The request is admitted iff its own increment fits, so N concurrent requests admit
 * exactly the limit. A denied increment is given back off the response's path (`$inc` of minus the
 * cost), so denied requests do not count, as in the memory store.
 */
export class WindowCounterStrategy implements CounterStrategy {
  /** Compensation writes in flight: `<counter> <key>`. */
  private readonly givingBack = new Set<string>();
  /** Cost to give back once the write in flight for the same slot is done. */
  private readonly nextGiveBack = new Map<string, number>();

  constructor(
    private readonly context: CounterContext,
    private readonly counters: WindowCounters,
  ) {}

  async consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<CounterDecision> {
    const { startMs, index } = windowAt(rule, nowMs);
    const field = counter(index);
    const expiresAtMs = getAlgorithm(rule.algorithm).expiresAtMs(this.counters.state(startMs, cost, 0), rule);
    // The pre-image (null when this upsert created the document) plus our own increment is exactly
    // this request's position: the pre-image is what findAndModify guarantees atomically everywhere.
    const before = await retryOnDuplicateKey(
      () =>
        this.context.collection.findOneAndUpdate(
          { _id: key },
          {
            $inc: { [field]: cost },
            $max: { e: new Date(expiresAtMs) },
            $setOnInsert: { b: 0 },
            // The window before the oldest one counted is never read again.
            $unset: { [counter(index - this.counters.windowsCounted)]: '' },
          },
          { upsert: true, returnDocument: 'before' },
        ),
      () => this.context.stats.duplicateKeyRetries++,
    );
    const state = this.counters.state(startMs, before?.[field] ?? 0, before?.[counter(index - 1)] ?? 0);
    const { result } = decideRule(ruleStateOf(before, state), rule, nowMs, cost);
    if (!result.allowed) this.giveBack(key, field, cost);
    if (before) this.removeStaleCounters(key, before, index - this.counters.windowsCounted + 1);
    return { result, storedBlockMs: before?.b };
  }

  /** Takes the cost off the counter of the reservation's window while that window still counts. */
  async refund(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number): Promise<void> {
    const { startMs, index } = windowAt(rule, reservedAtMs);
    if (nowMs >= startMs + this.counters.windowsCounted * rule.windowMs) return;
    await giveBack(this.context.collection, key, counter(index), 0, cost);
  }

  stateOf(doc: StateDocument, rule: StoreRule, nowMs: number): unknown {
    const { startMs, index } = windowAt(rule, nowMs);
    return this.counters.state(startMs, doc[counter(index)] ?? 0, doc[counter(index - 1)] ?? 0);
  }

  /**
   * Gives a denied increment back off the response's path: one write per key and window at a time
   * (denials meanwhile add to the next write), and at most `maxPendingCompensations` writes in
   * flight, past which the increment is dropped and counted (see MongoRateLimitStoreStats).
   */
  private giveBack(key: string, field: `c${number}`, cost: number): void {
    const { stats } = this.context;
    stats.compensations++;
    const slot = `${field} ${key}`;
    if (this.givingBack.has(slot)) {
      this.nextGiveBack.set(slot, (this.nextGiveBack.get(slot) ?? 0) + cost);
      return;
    }
    if (this.givingBack.size >= this.context.maxPendingCompensations) {
      stats.compensationsDropped++;
      return;
    }
    this.sendGiveBack(key, field, slot, cost);
  }

  private sendGiveBack(key: string, field: `c${number}`, slot: string, cost: number): void {
    const { collection, stats, writeBack } = this.context;
    this.givingBack.add(slot);
    stats.compensationWrites++;
    const write = collection.updateOne({ _id: key }, { $inc: { [field]: -cost } }).finally(() => {
      this.givingBack.delete(slot);
      const next = this.nextGiveBack.get(slot);
      if (next === undefined) return;
      this.nextGiveBack.delete(slot);
      this.sendGiveBack(key, field, slot, next);
    });
    writeBack.add(
      write,
      `MongoRateLimitStore: giving back the denied increment (${cost}) of key ${JSON.stringify(key)} failed, ` +
        'so it counts against the key until its window ends',
    );
  }

  /** Removes counters older than `oldestKept` left behind by a key that skipped windows. */
  private removeStaleCounters(key: string, doc: StateDocument, oldestKept: number): void {
    const stale: Record<string, ''> = {};
    for (const name of Object.keys(doc)) {
      if (name.startsWith('c') && Number(name.slice(1)) < oldestKept) stale[name] = '';
    }
    if (Object.keys(stale).length === 0) return;
    this.context.writeBack.add(
      this.context.collection.updateOne({ _id: key }, { $unset: stale }),
      `MongoRateLimitStore: removing stale counters of key ${JSON.stringify(key)} failed; they stay until the document expires`,
    );
  }
}
