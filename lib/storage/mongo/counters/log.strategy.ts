import type { SlidingLogState } from '../../../core/algorithms/sliding-log.algorithm.js';
import { decideRule, type StoreRule } from '../../../core/rule-decision.js';
import { isDuplicateKey } from '../mongo-collection.js';
import type { CounterContext, CounterDecision, CounterStrategy } from './counter-strategy.interface.js';
import { ruleStateOf, type StateDocument } from './state.document.js';

/**
 * Sliding log: the log (`s`) replaced by compare-and-set on its version (`v`), decided from the last
 * known document (read once for a key not seen yet). Decisions for one key are serialised within
 * the process, so that only other instances make it lose a race.
 */
export class LogStrategy implements CounterStrategy {
  /** Decisions in flight per key (one at a time per process). */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly context: CounterContext,
    private readonly maxCasAttempts: number,
  ) {}

  consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<CounterDecision> {
    return this.serialised(key, () => this.decide(key, rule, nowMs, cost));
  }

  stateOf(doc: StateDocument): unknown {
    return doc.s === undefined ? undefined : ({ log: doc.s } satisfies SlidingLogState);
  }

  private async decide(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<CounterDecision> {
    const { collection, hints, stats } = this.context;
    let doc: StateDocument | null | undefined = hints.get(key);
    let hinted = doc !== undefined;
    for (let attempt = 0; attempt < this.maxCasAttempts; attempt++) {
      if (doc === undefined) {
        doc = await collection.findOne({ _id: key });
        hinted = false;
      }
      const outcome = decideRule(doc ? ruleStateOf(doc, this.stateOf(doc)) : undefined, rule, nowMs, cost);
      if (!outcome.result.allowed) {
        // A block starts from the stored document only: the last known one may miss a block another
        // instance started, which this denial would start again, later.
        // The re-read is no lost race: it does not use up an attempt.
        if (hinted && outcome.result.blockedUntilMs !== undefined && !outcome.result.ongoingBlock) {
          doc = undefined;
          attempt--;
          continue;
        }
        return { result: outcome.result, storedBlockMs: doc?.b };
      }
      const log = (outcome.state.algorithmState as SlidingLogState).log;
      const e = new Date(Math.max(outcome.expiresAtMs, nowMs + 1));
      if (doc === null) {
        try {
          await collection.insertOne({ _id: key, s: [...log], v: 1, b: 0, e });
          hints.remember(key, { _id: key, s: [...log], v: 1, b: 0 });
          return { result: outcome.result };
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          stats.duplicateKeyRetries++;
        }
      } else {
        const version = doc.v ?? 0;
        // A block another instance started since (it does not change the version) fails the update too.
        const before = await collection.findOneAndUpdate(
          { _id: key, v: doc.v === undefined ? { $exists: false } : version, b: { $not: { $gt: nowMs } } },
          { $set: { s: [...log], v: version + 1 }, $max: { e } },
          { returnDocument: 'before' },
        );
        if (before) {
          hints.remember(key, { ...before, s: [...log], v: version + 1 });
          return { result: outcome.result };
        }
        stats.casConflicts++;
      }
      // Lost a race: back off a little (jittered, growing) so that the instance holding the fresh
      // state does not win every time, then read the current state and decide again.
      doc = undefined;
      hints.delete(key);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt + 1, 8)));
    }
    throw new Error(
      `MongoRateLimitStore: gave up on key ${JSON.stringify(key)} after ${this.maxCasAttempts} concurrent updates in a row; ` +
        'raise maxCasAttempts or prefer the sliding-window algorithm for such hot keys.',
    );
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
