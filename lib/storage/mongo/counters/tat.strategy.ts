import { gcraStateOnGrid, gridOf, gridRequest, refundStep, type GridRequest } from '../../../core/algorithms/gcra.algorithm.js';
import { tokenBucketStateOnGrid } from '../../../core/algorithms/token-bucket.algorithm.js';
import { decideRule, type StoreRule } from '../../../core/rule-decision.js';
import { isDuplicateKey } from '../mongo-collection.js';
import type { CounterContext, CounterDecision, CounterStrategy } from './counter-strategy.interface.js';
import { giveBack } from './give-back.js';
import { ruleStateOf, type StateDocument } from './state.document.js';

/** The algorithm state a TAT in grid units stands for at `nowMs`. */
export type TatState = (tat: number, rule: StoreRule, nowMs: number) => unknown;

export const GCRA_TAT: TatState = (tat, rule) => gcraStateOnGrid(tat, rule);
export const TOKEN_BUCKET_TAT: TatState = tokenBucketStateOnGrid;

/**
 * Token bucket and GCRA: the theoretical arrival time in whole grid units (`t`), updated by a
 * filtered `$set` (idle client) or `$inc` (busy client) that matches only if the request fits; the
 * last known state picks which one to try first. A miss on both means a denial, whose figures come
 * from a read.
 */
export class TatStrategy implements CounterStrategy {
  constructor(
    private readonly context: CounterContext,
    private readonly tatState: TatState,
  ) {}

  async consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<CounterDecision> {
    const request = gridRequest(rule, nowMs, cost);
    if (request === undefined) {
      // Can never fit, and the idle update would advance the TAT anyway: decide from a read.
      const doc = await this.context.collection.findOne({ _id: key });
      return { result: decideRule(doc ? this.ruleState(doc, rule, nowMs) : undefined, rule, nowMs, cost).result, storedBlockMs: doc?.b };
    }
    const hint = this.context.hints.get(key)?.t;
    const attempts = hint !== undefined && hint > request.now ? [this.busy, this.idle] : [this.idle, this.busy];
    for (const attempt of attempts) {
      const tatBefore = await attempt.call(this, key, request, nowMs);
      if (tatBefore !== undefined) {
        this.context.hints.remember(key, { _id: key, t: tatBefore + request.step });
        return { result: decideRule({ algorithmState: this.tatState(tatBefore, rule, nowMs) }, rule, nowMs, cost).result };
      }
    }
    // Neither matched: over the limit or blocked. Read the state for the figures of the denial.
    const doc = await this.context.collection.findOne({ _id: key });
    if (!doc) return this.consume(key, rule, nowMs, cost); // reset in between
    if (doc.t !== undefined) this.context.hints.remember(key, { _id: key, t: doc.t });
    const { result } = decideRule(this.ruleState(doc, rule, nowMs), rule, nowMs, cost);
    if (result.allowed) return this.consume(key, rule, nowMs, cost); // freed in between
    return { result, storedBlockMs: doc.b };
  }

  /** Moves the TAT back by what is left of the reservation (see `refundStep`), never before now. */
  async refund(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number): Promise<void> {
    const step = refundStep(rule, nowMs, cost, reservedAtMs);
    if (!(step > 0)) return;
    const tat = await giveBack(this.context.collection, key, 't', nowMs * gridOf(rule).perMs, step);
    if (tat !== undefined) this.context.hints.remember(key, { _id: key, t: tat });
  }

  stateOf(doc: StateDocument, rule: StoreRule, nowMs: number): unknown {
    return doc.t === undefined ? undefined : this.tatState(doc.t, rule, nowMs);
  }

  private ruleState(doc: StateDocument, rule: StoreRule, nowMs: number) {
    return ruleStateOf(doc, this.stateOf(doc, rule, nowMs));
  }

  /** An idle client (TAT at or before now, or no document): returns `now` when it matched, `undefined` when not. */
  private async idle(key: string, request: GridRequest, nowMs: number): Promise<number | undefined> {
    try {
      await this.context.collection.findOneAndUpdate(
        { _id: key, t: { $not: { $gt: request.now } }, b: { $not: { $gt: nowMs } } },
        { $set: { t: request.now + request.step }, $max: { e: new Date(request.idleByMs) }, $setOnInsert: { b: 0 } },
        { upsert: true, returnDocument: 'before' },
      );
      return request.now; // the client was idle: the same as a TAT of now
    } catch (error) {
      // The document exists but did not match: the client is busy (or blocked).
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
  }

  /** A busy client whose request still fits: returns the TAT before it, `undefined` when it did not match. */
  private async busy(key: string, request: GridRequest, nowMs: number): Promise<number | undefined> {
    const before = await this.context.collection.findOneAndUpdate(
      { _id: key, t: { $gt: request.now, $lte: request.latestTat }, b: { $not: { $gt: nowMs } } },
      { $inc: { t: request.step }, $max: { e: new Date(request.idleByMs) } },
      { returnDocument: 'before' },
    );
    return before?.t;
  }
}
