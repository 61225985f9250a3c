import { slidingLog, type SlidingLogState } from '../../../core/algorithms/sliding-log.algorithm.js';
import { decideRule, type StoreRule } from '../../../core/rule-decision.js';
import { isDuplicateKey } from '../mongo-collection.js';
import type { CounterContext, CounterDecision, CounterStrategy } from './counter-strategy.interface.js';
import { ruleStateOf, type StateDocument } from './state.document.js';

/**
 * What one attempt makes of the document it started from: an answer, a fresh read first (the last
 * known document may be stale; not a lost race), or a new log to compare-and-set, then an answer.
 */
type Attempt<T> =
  | { readonly done: T }
  | { readonly reread: true }
  | {
      readonly log: readonly number[];
      readonly then: T;
      /** The document's new expiry, if it grows. */
      readonly expires?: Date;
      /** Fail the update if a block runs at this time (another instance started one since). */
      readonly unblockedAtMs?: number;
    };

/**
 * Sliding log: the log (`s`) replaced by compare-and-set on its version (`v`), decided from the last
 * known document (read once for a key not seen yet). Decisions and refunds for one key are
 * serialised within the process, so that only other instances make them lose a race.
 */
export class LogStrategy implements CounterStrategy {
  /** Decisions in flight per key (one at a time per process). */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly context: CounterContext,
    private readonly maxCasAttempts: number,
  ) {}

  consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<CounterDecision> {
    return this.serialised(key, () =>
      this.compareAndSet<CounterDecision>(key, (doc, hinted) => {
        const outcome = decideRule(doc ? ruleStateOf(doc, this.stateOf(doc)) : undefined, rule, nowMs, cost);
        if (!outcome.result.allowed) {
          // A block starts from the stored document only: the last known one may miss a block another
          // instance started, which this denial would start again, later.
          if (hinted && outcome.result.blockedUntilMs !== undefined && !outcome.result.ongoingBlock) return { reread: true };
          return { done: { result: outcome.result, storedBlockMs: doc?.b } };
        }
        const { log } = outcome.state.algorithmState as SlidingLogState;
        return { log, then: { result: outcome.result }, expires: new Date(Math.max(outcome.expiresAtMs, nowMs + 1)), unblockedAtMs: nowMs };
      }),
    );
  }

  /** Takes the cost off the entry made at `reservedAtMs` (see `slidingLog.refund`); the block stays. */
  refund(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number): Promise<void> {
    return this.serialised(key, () =>
      this.compareAndSet<void>(key, (doc, hinted) => {
        const state = doc ? (this.stateOf(doc) as SlidingLogState | undefined) : undefined;
        const refunded = slidingLog.refund(state, rule, nowMs, cost, reservedAtMs);
        // Nothing to give back in the last known log: make sure from the stored one.
        if (refunded === state || refunded === undefined) return hinted ? { reread: true } : { done: undefined };
        return { log: refunded.log, then: undefined };
      }),
    );
  }

  stateOf(doc: StateDocument): unknown {
    return doc.s === undefined ? undefined : ({ log: doc.s } satisfies SlidingLogState);
  }

  /** Runs `attempt` on the last known document and writes its log, until a write wins the race. */
  private async compareAndSet<T>(key: string, attempt: (doc: StateDocument | null, hinted: boolean) => Attempt<T>): Promise<T> {
    const { collection, hints } = this.context;
    let doc: StateDocument | null | undefined = hints.get(key);
    let hinted = doc !== undefined;
    for (let race = 0; race < this.maxCasAttempts;) {
      if (doc === undefined) {
        doc = await collection.findOne({ _id: key });
        hinted = false;
      }
      const next = attempt(doc, hinted);
      if ('done' in next) return next.done;
      if ('reread' in next) {
        doc = undefined;
        continue;
      }
      if (await this.write(key, doc, next)) return next.then;
      // Lost a race: back off a little (jittered, growing) so that the instance holding the fresh
      // state does not win every time, then read the current state and decide again.
      doc = undefined;
      hints.delete(key);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(race + 1, 8)));
      race++;
    }
    throw new Error(
      `MongoRateLimitStore: gave up on key ${JSON.stringify(key)} after ${this.maxCasAttempts} concurrent updates in a row; ` +
        'raise maxCasAttempts or prefer the sliding-window algorithm for such hot keys.',
    );
  }

  /** Writes a new log over `doc` (inserts it when there is none); false when another write came first. */
  private async write(key: string, doc: StateDocument | null, next: Exclude<Attempt<unknown>, { done: unknown } | { reread: true }>): Promise<boolean> {
    const { collection, hints, stats } = this.context;
    const s = [...next.log];
    if (doc === null) {
      try {
        await collection.insertOne({ _id: key, s, v: 1, b: 0, e: next.expires ?? new Date(0) });
        hints.remember(key, { _id: key, s, v: 1, b: 0 });
        return true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        stats.duplicateKeyRetries++;
        return false;
      }
    }
    const version = doc.v ?? 0;
    // A block another instance started since (it does not change the version) fails the update too.
    const before = await collection.findOneAndUpdate(
      {
        _id: key,
        v: doc.v === undefined ? { $exists: false } : version,
        ...(next.unblockedAtMs === undefined ? {} : { b: { $not: { $gt: next.unblockedAtMs } } }),
      },
      { $set: { s, v: version + 1 }, ...(next.expires === undefined ? {} : { $max: { e: next.expires } }) },
      { returnDocument: 'before' },
    );
    if (!before) {
      stats.casConflicts++;
      return false;
    }
    hints.remember(key, { ...before, s, v: version + 1 });
    return true;
  }

  private serialised<T>(key: string, run: () => Promise<T>): Promise<T> {
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const next = previous.then(run, run);
    const tail = next.catch(() => undefined);
    this.inFlight.set(key, tail);
    void tail.then(() => {
      if (this.inFlight.get(key) === tail) this.inFlight.delete(key);
    });
    return next;
  }
}
