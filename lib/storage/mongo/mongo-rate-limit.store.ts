import type { Collection, Connection, Model } from 'mongoose';
import { gridOf } from '../../core/algorithms/gcra.algorithm.js';
import type { FixedWindowState } from '../../core/algorithms/fixed-window.algorithm.js';
import type { SlidingLogState } from '../../core/algorithms/sliding-log.algorithm.js';
import type { SlidingWindowCounterState } from '../../core/algorithms/sliding-window-counter.algorithm.js';
import type { TokenBucketState } from '../../core/algorithms/token-bucket.algorithm.js';
import { decideRule, peekRule, type ConsumeResult, type RuleState, type StoreRule } from '../../core/rule-decision.js';
import type { RateLimitStore } from '../rate-limit-store.interface.js';
import { isDuplicateKey, retryOnDuplicateKey } from './mongo-collection.js';
import { RateLimitState, RateLimitStateSchema } from './schemas/rate-limit-state.schema.js';

/** Options of the Mongo rate-limit store. */
export interface MongoRateLimitStoreOptions {
  /** @default 'rampart_rate_limits' */
  collectionName?: string;
  /**
   * Sliding-log rules update their document by compare-and-set; a decision gives up (and fails like
   * any store error) after this many lost races in a row. Each lost race means another instance
   * admitted a request, so a decision can lose at most about `limit` times in one window.
   * @default 64
   */
  maxCasAttempts?: number;
  /**
   * Most keys whose last known state is remembered to pick the likely update first, and most rule
   * blocks remembered to answer without a round trip (a block forgotten here is still enforced from
   * the database). @default 10_000
   */
  hintCacheSize?: number;
}

/** Counters of the rarer paths, for tests and diagnostics. */
export interface MongoRateLimitStoreStats {
  /** Upserts of a new key that lost the insert race (E11000) and were retried once. */
  duplicateKeyRetries: number;
  /** Sliding-log compare-and-set attempts that found the document changed. */
  casConflicts: number;
  /** Denied counter increments given back. */
  compensations: number;
}

interface StateDocument {
  _id: string;
  b?: number;
  t?: number;
  s?: number[];
  v?: number;
  e?: Date;
  [counter: `c${number}`]: number | undefined;
}


/**
 * Rate-limit state in MongoDB, shared by every instance of an app. Each decision is one atomic
 * single-document operation (no read-then-write), with the same pure algorithm functions as the
 * memory store deciding from what the operation returns:
 *
 * - fixed window and sliding window counter: `$inc` of the current window's counter, returning the
 *   document; the request is admitted iff its own increment fits, so N concurrent requests admit
 *   exactly the limit. A denied increment is given back (`$inc` of minus the cost, off the
 *   response's path), so denied requests do not count, as in the memory store.
 * - token bucket and GCRA: the theoretical arrival time in whole grid units, updated by a filtered
 *   `$set` (idle client) or `$inc` (busy client) that matches only if the request fits; the last
 *   known state picks which one to try first. A miss on both means a denial.
 * - sliding log: compare-and-set on a version number, serialised per key within the process.
 *
 * Round trips: one per admitted decision (a second one when the guess of idle/busy was wrong, or
 * for a sliding log whose document another instance changed); none while a rule block is known
 * locally.
 */
export class MongoRateLimitStore implements RateLimitStore {
  readonly model: Model<RateLimitState>;
  readonly stats: MongoRateLimitStoreStats = { duplicateKeyRetries: 0, casConflicts: 0, compensations: 0 };
  private readonly collection: Collection<StateDocument>;
  private readonly maxCasAttempts: number;
  private readonly hintCacheSize: number;
  /** Last known state per key: the TAT (grid units) or the sliding log and its version. */
  private readonly hints = new Map<string, StateDocument>();
  /** Rule blocks known locally: key → blocked until (epoch ms). */
  private readonly blocks = new Map<string, number>();
  /** Sliding-log decisions in flight per key (one at a time per process). */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(connection: Connection, options: MongoRateLimitStoreOptions = {}) {
    const collectionName = options.collectionName ?? 'rampart_rate_limits';
    this.model =
      (connection.models[RateLimitState.name + ':' + collectionName] as Model<RateLimitState> | undefined) ??
      connection.model<RateLimitState>(RateLimitState.name + ':' + collectionName, RateLimitStateSchema, collectionName);
    this.collection = this.model.collection as unknown as Collection<StateDocument>;
    this.maxCasAttempts = options.maxCasAttempts ?? 64;
    this.hintCacheSize = options.hintCacheSize ?? 10_000;
  }

  /** Creates the expiry index (TTL where the server enforces it; the sweeper covers the rest). */
  async init(): Promise<void> {
    await this.collection.createIndex({ e: 1 }, { name: 'e_ttl', expireAfterSeconds: 0 });
  }

  /** Deletes documents that expired before `nowMs`; returns how many. */
  async sweep(nowMs: number): Promise<number> {
    const { deletedCount } = await this.collection.deleteMany({ e: { $lt: new Date(nowMs) } });
    return deletedCount;
  }

  /** Resolves when the background writes started so far (given-back increments) are done. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult> {
    const blockedUntil = this.blocks.get(key);
    if (blockedUntil !== undefined) {
      if (blockedUntil > nowMs) return peekRule({ blockedUntilMs: blockedUntil }, rule, nowMs);
      this.blocks.delete(key);
    }
    switch (rule.algorithm) {
      case 'fixed-window':
      case 'sliding-window':
        return this.consumeCounter(key, rule, nowMs, cost);
      case 'token-bucket':
      case 'gcra':
        return this.consumeTat(key, rule, nowMs, cost);
      case 'sliding-log':
        return this.serialised(key, () => this.consumeLog(key, rule, nowMs, cost));
    }
  }

  async get(key: string, rule: StoreRule, nowMs: number): Promise<ConsumeResult | null> {
    const doc = await this.collection.findOne({ _id: key });
    if (!doc || (doc.e !== undefined && doc.e.getTime() <= nowMs)) return null;
    return peekRule(this.ruleState(doc, rule, nowMs), rule, nowMs);
  }

  async reset(key: string): Promise<void> {
    this.hints.delete(key);
    this.blocks.delete(key);
    await this.collection.deleteOne({ _id: key });
  }

  // ---- fixed window, sliding window counter ------------------------------------------------

  private async consumeCounter(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult> {
    const index = Math.floor(nowMs / rule.windowMs);
    const field = `c${index}` as const;
    const sliding = rule.algorithm === 'sliding-window';
    const expiresAtMs = (index + (sliding ? 2 : 1)) * rule.windowMs;
    // The pre-image (null when this upsert created the document) plus our own increment is exactly
    // this request's position: the pre-image is what findAndModify guarantees atomically everywhere.
    const before = await this.upsertWithRetry(key, {
      $inc: { [field]: cost },
      $max: { e: new Date(expiresAtMs) },
      $setOnInsert: { b: 0 },
      // The window before the previous one is never read again.
      $unset: { [`c${index - (sliding ? 2 : 1)}`]: '' },
    });
    const counted = before?.[field] ?? 0;
    const state: RuleState = {
      algorithmState: sliding
        ? ({ windowStartMs: index * rule.windowMs, current: counted, previous: before?.[`c${index - 1}`] ?? 0 } satisfies SlidingWindowCounterState)
        : ({ windowStartMs: index * rule.windowMs, count: counted } satisfies FixedWindowState),
      ...(before?.b ? { blockedUntilMs: before.b } : {}),
    };
    const outcome = decideRule(state, rule, nowMs, cost);
    if (!outcome.result.allowed) {
      this.background(this.collection.updateOne({ _id: key }, { $inc: { [field]: -cost } }));
      this.stats.compensations++;
      await this.noteDenial(key, outcome.result, before?.b);
    }
    if (before) this.cleanStaleCounters(key, before, index - (sliding ? 1 : 0));
    return outcome.result;
  }

  /** Removes counters older than `oldestKept` left behind by a key that skipped windows. */
  private cleanStaleCounters(key: string, doc: StateDocument, oldestKept: number): void {
    const stale: Record<string, ''> = {};
    for (const name of Object.keys(doc)) {
      if (name.startsWith('c') && Number(name.slice(1)) < oldestKept) stale[name] = '';
    }
    if (Object.keys(stale).length > 0) this.background(this.collection.updateOne({ _id: key }, { $unset: stale }));
  }

  // ---- token bucket, GCRA --------------------------------------------------------------------

  private async consumeTat(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult> {
    const grid = gridOf(rule);
    const capacity = rule.burst ?? rule.limit;
    const tolerance = capacity * grid.interval;
    const step = cost * grid.interval;
    const now = nowMs * grid.perMs;
    const expires = { e: new Date(nowMs + Math.ceil(tolerance / grid.perMs)) };
    const notBlocked = { b: { $not: { $gt: nowMs } } };
    if (step > tolerance) {
      // Can never fit, and the idle update below would advance the TAT anyway: decide from a read.
      const doc = await this.collection.findOne({ _id: key });
      const outcome = decideRule(doc ? this.ruleState(doc, rule, nowMs) : undefined, rule, nowMs, cost);
      await this.noteDenial(key, outcome.result, doc?.b);
      return outcome.result;
    }

    /** Each attempt returns the TAT before this request when it matched, `undefined` when not. */
    const idle = async (): Promise<number | undefined> => {
      try {
        await this.collection.findOneAndUpdate(
          { _id: key, t: { $not: { $gt: now } }, ...notBlocked },
          { $set: { t: now + step }, $max: expires, $setOnInsert: { b: 0 } },
          { upsert: true, returnDocument: 'before' },
        );
        return now; // the client was idle: the same as a TAT of now
      } catch (error) {
        // The document exists but did not match: the client is busy (or blocked).
        if (isDuplicateKey(error)) return undefined;
        throw error;
      }
    };
    const busy = async (): Promise<number | undefined> => {
      const before = await this.collection.findOneAndUpdate(
        { _id: key, t: { $gt: now, $lte: now + tolerance - step }, ...notBlocked },
        { $inc: { t: step }, $max: expires },
        { returnDocument: 'before' },
      );
      return before?.t;
    };

    const hint = this.hints.get(key)?.t;
    const attempts = hint !== undefined && hint > now ? [busy, idle] : [idle, busy];
    for (const attempt of attempts) {
      const tatBefore = await attempt();
      if (tatBefore !== undefined) {
        this.remember(key, { _id: key, t: tatBefore + step });
        return decideRule(this.tatState(tatBefore, rule, nowMs), rule, nowMs, cost).result;
      }
    }
    // Neither matched: over the limit or blocked. Read the state for the figures of the denial.
    const doc = await this.collection.findOne({ _id: key });
    if (!doc) return this.consumeTat(key, rule, nowMs, cost); // reset in between
    if (doc.t !== undefined) this.remember(key, { _id: key, t: doc.t });
    const outcome = decideRule(this.ruleState(doc, rule, nowMs), rule, nowMs, cost);
    if (outcome.result.allowed) return this.consumeTat(key, rule, nowMs, cost); // freed in between
    await this.noteDenial(key, outcome.result, doc.b);
    return outcome.result;
  }

  // ---- sliding log ----------------------------------------------------------------------------

  private async consumeLog(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult> {
    let doc: StateDocument | null | undefined = this.hints.get(key);
    for (let attempt = 0; attempt < this.maxCasAttempts; attempt++) {
      doc ??= await this.collection.findOne({ _id: key });
      const outcome = decideRule(doc ? this.ruleState(doc, rule, nowMs) : undefined, rule, nowMs, cost);
      if (!outcome.result.allowed) {
        await this.noteDenial(key, outcome.result, doc?.b);
        return outcome.result;
      }
      const log = (outcome.state.algorithmState as SlidingLogState).log;
      const e = new Date(Math.max(outcome.expiresAtMs, nowMs + 1));
      if (doc === null) {
        try {
          await this.collection.insertOne({ _id: key, s: [...log], v: 1, b: 0, e });
          this.remember(key, { _id: key, s: [...log], v: 1, b: 0 });
          return outcome.result;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          this.stats.duplicateKeyRetries++;
        }
      } else {
        const version = doc.v ?? 0;
        const before = await this.collection.findOneAndUpdate(
          { _id: key, v: doc.v === undefined ? { $exists: false } : version },
          { $set: { s: [...log], v: version + 1 }, $max: { e } },
          { returnDocument: 'before' },
        );
        if (before) {
          this.remember(key, { ...before, s: [...log], v: version + 1 });
          return outcome.result;
        }
        this.stats.casConflicts++;
      }
      // Lost a race: back off a little (jittered, growing) so that the instance holding the fresh
      // state does not win every time, then read the current state and decide again.
      doc = undefined;
      this.hints.delete(key);
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

  // ---- shared -----------------------------------------------------------------------------------

  /** The algorithm state a stored document stands for. */
  private ruleState(doc: StateDocument, rule: StoreRule, nowMs: number): RuleState {
    let algorithmState: unknown;
    switch (rule.algorithm) {
      case 'fixed-window':
      case 'sliding-window': {
        const index = Math.floor(nowMs / rule.windowMs);
        const current = doc[`c${index}`] ?? 0;
        algorithmState =
          rule.algorithm === 'fixed-window'
            ? ({ windowStartMs: index * rule.windowMs, count: current } satisfies FixedWindowState)
            : ({ windowStartMs: index * rule.windowMs, current, previous: doc[`c${index - 1}`] ?? 0 } satisfies SlidingWindowCounterState);
        break;
      }
      case 'token-bucket':
      case 'gcra':
        algorithmState = doc.t === undefined ? undefined : this.tatState(doc.t, rule, nowMs).algorithmState;
        break;
      case 'sliding-log':
        algorithmState = doc.s === undefined ? undefined : ({ log: doc.s } satisfies SlidingLogState);
        break;
    }
    return { algorithmState, ...(doc.b ? { blockedUntilMs: doc.b } : {}) };
  }

  /** A TAT in grid units as the state of the rule's algorithm at `nowMs`. */
  private tatState(tat: number, rule: StoreRule, nowMs: number): RuleState {
    const grid = gridOf(rule);
    if (rule.algorithm === 'gcra') return { algorithmState: { tatMs: tat / grid.perMs } };
    const ahead = Math.max(0, tat - nowMs * grid.perMs);
    const tokens = ((rule.burst ?? rule.limit) * grid.interval - ahead) / grid.interval;
    return { algorithmState: { tokens, updatedAtMs: nowMs } satisfies TokenBucketState };
  }

  /** After a denial: start the rule's block in the database (once) and remember it locally. */
  private async noteDenial(key: string, result: ConsumeResult, storedBlock: number | undefined): Promise<void> {
    const until = result.blockedUntilMs;
    if (until === undefined) return;
    this.blocks.delete(key);
    this.blocks.set(key, until);
    // Bounded like the hints: the block noted longest ago is forgotten first.
    if (this.blocks.size > this.hintCacheSize) this.blocks.delete(this.blocks.keys().next().value as string);
    if ((storedBlock ?? 0) < until) {
      await this.collection.updateOne({ _id: key }, { $max: { b: until, e: new Date(until) } });
    }
  }


  /** Upserts and returns the pre-image (`null` when this call created the document). */
  private upsertWithRetry(key: string, update: Record<string, unknown>): Promise<StateDocument | null> {
    return retryOnDuplicateKey(
      () => this.collection.findOneAndUpdate({ _id: key }, update, { upsert: true, returnDocument: 'before' }),
      () => this.stats.duplicateKeyRetries++,
    );
  }


  private remember(key: string, doc: StateDocument): void {
    this.hints.delete(key);
    this.hints.set(key, doc);
    if (this.hints.size > this.hintCacheSize) this.hints.delete(this.hints.keys().next().value as string);
  }

  private background(write: Promise<unknown>): void {
    const tracked = write.catch(() => undefined);
    this.pending.add(tracked);
    void tracked.then(() => this.pending.delete(tracked));
  }
}
