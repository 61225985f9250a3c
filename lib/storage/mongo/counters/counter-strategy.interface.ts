import type { mongo } from 'mongoose';
import type { ConsumeResult, StoreRule } from '../../../core/rule-decision.js';
import type { RecentKeysMap } from '../../recent-keys.map.js';
import type { StateDocument } from './state.document.js';
import type { WriteBackQueue } from './write-back.queue.js';

/** Counters of the rarer paths of the Mongo rate-limit store, for tests and diagnostics. */
export interface MongoRateLimitStoreStats {
  /** Upserts of a new key that lost the insert race (E11000) and were retried once. */
  duplicateKeyRetries: number;
  /** Sliding-log compare-and-set attempts that found the document changed. */
  casConflicts: number;
  /** Denied counter increments to give back (each denial of a window counter adds one). */
  compensations: number;
  /**
   * Writes sent to give them back: at most one in flight per key and window, the increments denied
   * meanwhile summed into the next one, so a burst of denials costs two writes, not one each.
   */
  compensationWrites: number;
  /**
   * Denied increments not given back because `maxPendingCompensations` writes were in flight
   * already: each counts against its key until its window ends (a client may be denied a little
   * early, never admitted beyond its limit).
   */
  compensationsDropped: number;
  /** Writes made after answering (given-back increments, stale-counter removals) that failed; each is also logged. */
  failedWriteBacks: number;
}

/** What the store shares with its strategies. */
export interface CounterContext {
  readonly collection: mongo.Collection<StateDocument>;
  readonly stats: MongoRateLimitStoreStats;
  /** Last known state per key, to pick the likely update first. */
  readonly hints: RecentKeysMap<StateDocument>;
  readonly writeBack: WriteBackQueue;
  /** Most compensation writes in flight at once. */
  readonly maxPendingCompensations: number;
}

/** A decision, and the block end stored in the document it was taken from. */
export interface CounterDecision {
  readonly result: ConsumeResult;
  /** Epoch ms; absent or 0 when the document held no block. */
  readonly storedBlockMs?: number | undefined;
}

/**
 * How one family of algorithms keeps its state in a key's document and decides a request with one
 * atomic single-document operation, from that operation's pre-image; the pure algorithm of the rule
 * decides, the strategy only maps the document to its state.
 */
export interface CounterStrategy {
  /** Decides a request of `cost` at `nowMs` and writes it; the store starts a rule block after a denial. */
  consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<CounterDecision>;
  /**
   * Gives back `cost` units a request admitted at `reservedAtMs` took (see `RateLimitStore.refund`),
   * by atomic single-document operations; never touches the block. `cost` and the times are valid.
   */
  refund(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number): Promise<void>;
  /** The algorithm state `doc` stands for at `nowMs` (`undefined`: nothing counted). */
  stateOf(doc: StateDocument, rule: StoreRule, nowMs: number): unknown;
}
