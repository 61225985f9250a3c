import type { Connection, Model } from 'mongoose';
import type { AlgorithmName } from '../../core/algorithms/algorithm.interface.js';
import { consoleLogger, type RampartLogger } from '../../core/logger.js';
import { peekRule, refundable, type ConsumeResult, type StoreRule } from '../../core/rule-decision.js';
import type { RateLimitStore } from '../rate-limit-store.interface.js';
import type { CounterContext, CounterStrategy, MongoRateLimitStoreStats } from './counters/counter-strategy.interface.js';
import { LogStrategy } from './counters/log.strategy.js';
import { KnownBlocks } from '../known-blocks.js';
import { RecentKeysMap } from '../recent-keys.map.js';
import { ruleStateOf, type StateDocument } from './counters/state.document.js';
import { GCRA_TAT, TatStrategy, TOKEN_BUCKET_TAT } from './counters/tat.strategy.js';
import { FIXED_WINDOW_COUNTERS, SLIDING_WINDOW_COUNTERS, WindowCounterStrategy } from './counters/window-counter.strategy.js';
import { WriteBackQueue } from './counters/write-back.queue.js';
import { MongoRecordStore } from './mongo-collection.js';
import { RateLimitState, RateLimitStateSchema } from './schemas/rate-limit-state.schema.js';

export type { MongoRateLimitStoreStats } from './counters/counter-strategy.interface.js';

/** Options of the Mongo rate-limit store. */
export interface MongoRateLimitStoreOptions {
  /** @default 'rampart_rate_limits' */
  collectionName?: string;
  /**
   * Create the expiry index `e_ttl` as a TTL index. Set `false` for a server that refuses TTL
   * indexes; expired documents are then deleted by `MongoSweeper` only.
   * @default true
   */
  ttlIndex?: boolean;
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
  /**
   * Most writes giving back denied counter increments (window algorithms) in flight at once; one
   * per key and window at a time, the denials meanwhile summed into the next. Past it an increment
   * is not given back: it counts against its key until the window ends, and `stats.compensationsDropped`
   * counts it. @default 1_000
   */
  maxPendingCompensations?: number;
  /** Where a failed write made after answering (e.g. a given-back increment) is reported. @default consoleLogger */
  logger?: RampartLogger;
}

/**
 * Rate-limit state in MongoDB, shared by every instance of an app. Each decision is one atomic
 * single-document operation (no read-then-write), taken by the strategy of the rule's algorithm
 * family from the operation's pre-image, with the same pure algorithm functions as the memory store
 * (see `counters/`): window counters (fixed window, sliding window counter), a TAT (token bucket,
 * GCRA), a log (sliding log).
 *
 * Round trips: one per admitted decision (a second one when the guess of idle/busy was wrong, or
 * for a sliding log whose document another instance changed); none while a rule block is known
 * locally. Writes made after answering are never dropped silently: a failure is logged and counted
 * in `stats.failedWriteBacks`.
 */
export class MongoRateLimitStore extends MongoRecordStore<StateDocument> implements RateLimitStore {
  readonly stats: MongoRateLimitStoreStats = {
    duplicateKeyRetries: 0,
    casConflicts: 0,
    compensations: 0,
    compensationWrites: 0,
    compensationsDropped: 0,
    failedWriteBacks: 0,
  };
  /** Rule blocks known locally: key → blocked until (epoch ms). */
  private readonly blocks: KnownBlocks;
  private readonly context: CounterContext;
  private readonly strategies: Readonly<Record<AlgorithmName, CounterStrategy>>;

  constructor(connection: Connection, options: MongoRateLimitStoreOptions = {}) {
    super(
      connection,
      { storeName: 'MongoRateLimitStore', modelName: RateLimitState.name, schema: RateLimitStateSchema, defaultCollectionName: 'rampart_rate_limits' },
      options,
    );
    const hintCacheSize = options.hintCacheSize ?? 10_000;
    const maxPendingCompensations = options.maxPendingCompensations ?? 1_000;
    if (!Number.isInteger(maxPendingCompensations) || maxPendingCompensations < 0) {
      throw new RangeError(`MongoRateLimitStore: maxPendingCompensations must be an integer of 0 or more, got ${String(maxPendingCompensations)}.`);
    }
    const logger = options.logger ?? consoleLogger;
    this.blocks = new KnownBlocks(hintCacheSize);
    this.context = {
      collection: this.collection,
      stats: this.stats,
      hints: new RecentKeysMap(hintCacheSize),
      writeBack: new WriteBackQueue(logger, () => this.stats.failedWriteBacks++),
      maxPendingCompensations,
    };
    const tokenBucket = new TatStrategy(this.context, TOKEN_BUCKET_TAT);
    this.strategies = {
      'fixed-window': new WindowCounterStrategy(this.context, FIXED_WINDOW_COUNTERS),
      'sliding-window': new WindowCounterStrategy(this.context, SLIDING_WINDOW_COUNTERS),
      'token-bucket': tokenBucket,
      gcra: new TatStrategy(this.context, GCRA_TAT),
      'sliding-log': new LogStrategy(this.context, options.maxCasAttempts ?? 64),
    };
  }

  /** The Mongoose model of the collection. */
  get model(): Model<StateDocument> {
    return this.records.model;
  }

  /** Deletes documents that expired before `nowMs`; returns how many. Called by `MongoSweeper`. */
  async sweep(nowMs: number): Promise<number> {
    const { deletedCount } = await this.collection.deleteMany({ e: { $lt: new Date(nowMs) } });
    return deletedCount;
  }

  /** Resolves when the writes started after answering so far (given-back increments) are done. */
  flush(): Promise<void> {
    return this.context.writeBack.flush();
  }

  async consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult> {
    const known = this.blocks.answer(key, rule, nowMs);
    if (known !== undefined) return known;
    const { result, storedBlockMs } = await this.strategyOf(rule).consume(key, rule, nowMs, cost);
    if (result.blockedUntilMs !== undefined) await this.noteBlock(key, result.blockedUntilMs, storedBlockMs);
    return result;
  }

  async get(key: string, rule: StoreRule, nowMs: number): Promise<ConsumeResult | null> {
    const doc = await this.collection.findOne({ _id: key });
    if (!doc || (doc.e !== undefined && doc.e.getTime() <= nowMs)) return null;
    return peekRule(ruleStateOf(doc, this.strategyOf(rule).stateOf(doc, rule, nowMs)), rule, nowMs);
  }

  /**
   * Gives back by the rule's strategy (see `counters/`): one atomic single-document update on the
   * current value (a counter or the TAT taken down, never below zero or before now), or for a
   * sliding log a compare-and-set retried like a decision's. The block (`b`) is never touched.
   */
  async refund(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number): Promise<void> {
    if (refundable(nowMs, cost, reservedAtMs)) await this.strategyOf(rule).refund(key, rule, nowMs, cost, reservedAtMs);
  }

  async reset(key: string): Promise<void> {
    this.context.hints.delete(key);
    this.blocks.delete(key);
    await this.collection.deleteOne({ _id: key });
  }

  private strategyOf(rule: StoreRule): CounterStrategy {
    const strategy = this.strategies[rule.algorithm];
    if (strategy === undefined) throw new Error(`MongoRateLimitStore: unknown algorithm ${JSON.stringify(rule.algorithm)}.`);
    return strategy;
  }

  /** A denial with a block: start it in the database (once) and remember it locally. */
  private async noteBlock(key: string, until: number, storedBlockMs: number | undefined): Promise<void> {
    this.blocks.remember(key, until);
    if ((storedBlockMs ?? 0) < until) {
      await this.collection.updateOne({ _id: key }, { $max: { b: until, e: new Date(until) } });
    }
  }
}
