import type { Connection, mongo } from 'mongoose';

import type { Ban, BanFilter, BanStore, BanTarget, NewBan, Page, PageRequest, PutCondition } from '../ban-store.interface.js';
import { checkChangedSince, checkDurationOption, checkPageRequest, checkTime, decodeCursor, DEFAULT_RETENTION_MS, encodeCursor } from '../store-input.js';
import { checkBanFilter, checkBanTarget, checkNewBan, checkPutCondition } from '../ban-input.js';
import { isDuplicateKey, MongoRecordStore, retryOnDuplicateKey, toDate } from './mongo-collection.js';
import { BAN_COLLECTION, BanRecord, BanSchema } from './schemas/ban.schema.js';

/** Options of `MongoBanStore`. */
export interface MongoBanStoreOptions {
  /** @default 'rampart_bans' */
  collectionName?: string;
  /**
   * How long a lifted or expired ban is kept as history (and its `blockCount` remembered) after it
   * ended, before the TTL index or `MongoSweeper` deletes it.
   * @default 2_592_000_000 (30 days)
   */
  historyRetentionMs?: number;
  /**
   * Create `purgeAt_1` as a TTL index. Set `false` for a server that refuses TTL indexes; ended
   * records are then deleted by `MongoSweeper` only.
   * @default true
   */
  ttlIndex?: boolean;
}

type BanDoc = BanRecord;

/** Bans not lifted: in a MongoDB filter, `null` matches a missing field. */
const NOT_LIFTED = { liftedAtMs: null } as unknown as mongo.Filter<BanDoc>;
/**
 * A record without `version` (none yet, or one written before records carried one). Not
 * `version: null`: an upsert copies the equality fields of its filter into the document it inserts,
 * and MongoDB refuses `$inc` on the `null` it would copy.
 */
const UNVERSIONED = { version: { $exists: false } } as unknown as mongo.Filter<BanDoc>;

/**
 * Bans in MongoDB, shared by every instance of an app: one document per target, `_id` =
 * `key:<key>` or `cidr:<canonical cidr>`. Every write is one atomic single-document operation;
 * times come from the caller's `nowMs`, never from the server.
 *
 * @example
 * const bans = new MongoBanStore(connection, { collectionName: 'rampart_bans' });
 * await bans.init(); // creates the indexes, then checks them
 */
export class MongoBanStore extends MongoRecordStore<BanDoc> implements BanStore {
  private readonly historyRetentionMs: number;
  /** Duplicate-key races lost on a first upsert and retried (for tests and metrics). */
  duplicateKeyRetries = 0;

  constructor(connection: Connection, options: MongoBanStoreOptions = {}) {
    super(connection, { storeName: 'MongoBanStore', modelName: 'RampartBan', schema: BanSchema, defaultCollectionName: BAN_COLLECTION }, options);
    this.historyRetentionMs = checkDurationOption(options.historyRetentionMs, 'MongoBanStore: historyRetentionMs', DEFAULT_RETENTION_MS);
  }

  put(ban: NewBan, nowMs: number): Promise<Ban>;
  put(ban: NewBan, nowMs: number, condition: PutCondition): Promise<Ban | null>;
  async put(ban: NewBan, nowMs: number, condition?: PutCondition): Promise<Ban | null> {
    const checked = checkNewBan(ban);
    checkTime(nowMs, 'nowMs');
    const expected = checkPutCondition(condition);
    const target = checked.target.type === 'key' ? checked.target.key : checked.target.cidr;
    const set: Partial<BanDoc> = {
      targetType: checked.target.type,
      target,
      kind: checked.kind,
      reason: checked.reason,
      source: checked.source,
      createdBy: checked.createdBy,
      createdAtMs: nowMs,
      violationCount: checked.violationCount,
      updatedAtMs: nowMs,
    };
    const unset: Record<string, ''> = { liftedAtMs: '', liftedBy: '' };
    const inc: Record<string, number> = { version: 1 };
    const update: mongo.UpdateFilter<BanDoc> = { $set: set, $unset: unset, $inc: inc };
    if (checked.kind === 'temporary') {
      set.expiresAtMs = checked.expiresAtMs!;
      set.purgeAt = toDate(checked.expiresAtMs! + this.historyRetentionMs);
      inc['blockCount'] = 1;
    } else {
      unset['expiresAtMs'] = '';
      unset['purgeAt'] = '';
      update.$setOnInsert = { blockCount: 0 };
    }
    if (expected === undefined) {
      const doc = await retryOnDuplicateKey(
        () => this.records.collection.findOneAndUpdate({ _id: checked.id }, update, { upsert: true, returnDocument: 'after' }),
        () => this.duplicateKeyRetries++,
      );
      if (doc === null) throw new Error(`MongoBanStore: the upsert of '${checked.id}' returned no document.`);
      return toBan(doc as BanDoc);
    }
    if (expected.expectedVersion === null) {
      // Only where there is no versioned record: an upsert that finds one tries to insert a second
      // document with its _id, and the duplicate key means the precondition failed (no retry).
      try {
        const doc = await this.records.collection.findOneAndUpdate({ _id: checked.id, ...UNVERSIONED }, update, {
          upsert: true,
          returnDocument: 'after',
        });
        return doc === null ? null : toBan(doc as BanDoc);
      } catch (error) {
        if (isDuplicateKey(error)) return null;
        throw error;
      }
    }
    // Only the record at that version; no upsert, so a record removed meanwhile is not recreated.
    const doc = await this.records.collection.findOneAndUpdate({ _id: checked.id, version: expected.expectedVersion } as mongo.Filter<BanDoc>, update, {
      returnDocument: 'after',
    });
    return doc === null ? null : toBan(doc as BanDoc);
  }

  async lift(target: BanTarget, by: string, nowMs: number, options: { forgetBlocks?: boolean } = {}): Promise<Ban | null> {
    const { id } = checkBanTarget(target);
    if (typeof by !== 'string' || by.length === 0) throw new TypeError(`by must be a non-empty string (who lifts the ban).`);
    checkTime(nowMs, 'nowMs');
    // Only a ban not lifted yet is lifted: a second lift keeps the first one's time and operator.
    const lifted = await this.records.collection.findOneAndUpdate(
      { _id: id, ...NOT_LIFTED },
      {
        $set: { liftedAtMs: nowMs, liftedBy: by, updatedAtMs: nowMs, ...(options.forgetBlocks ? { blockCount: 0 } : {}) },
        $inc: { version: 1 },
        // Kept as history for the retention period after the later of its expiry and its lift.
        $max: { purgeAt: toDate(nowMs + this.historyRetentionMs) },
      },
      { returnDocument: 'after' },
    );
    if (lifted !== null) return toBan(lifted as BanDoc);
    if (options.forgetBlocks) {
      // Already lifted: only the block count is forgotten (a change other instances see).
      const forgotten = await this.records.collection.findOneAndUpdate(
        { _id: id },
        { $set: { blockCount: 0, updatedAtMs: nowMs }, $inc: { version: 1 } },
        { returnDocument: 'after' },
      );
      return forgotten === null ? null : toBan(forgotten as BanDoc);
    }
    const existing = await this.records.collection.findOne({ _id: id });
    return existing === null ? null : toBan(existing as BanDoc);
  }

  async get(target: BanTarget): Promise<Ban | null> {
    const { id } = checkBanTarget(target);
    const doc = await this.records.collection.findOne({ _id: id });
    return doc === null ? null : toBan(doc as BanDoc);
  }

  async list(filter: BanFilter, page: PageRequest): Promise<Page<Ban>> {
    const f = checkBanFilter(filter);
    const { limit, cursor } = checkPageRequest(page);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const and: Array<mongo.Filter<BanDoc>> = [];
    if (f.kind !== undefined) and.push({ kind: { $eq: f.kind } });
    if (f.source !== undefined) and.push({ source: { $eq: f.source } });
    if (f.ids !== undefined) and.push({ _id: { $in: [...f.ids] } });
    if (f.activeAtMs !== undefined) {
      and.push(NOT_LIFTED, { $or: [{ kind: { $eq: 'permanent' } }, { expiresAtMs: { $gt: f.activeAtMs } }] });
    }
    if (after !== undefined) {
      and.push({ $or: [{ updatedAtMs: { $lt: after.ms } }, { updatedAtMs: { $eq: after.ms }, _id: { $lt: after.id } }] });
    }
    const docs = await this.records.findMany(and.length === 0 ? {} : { $and: and }, { updatedAtMs: -1, _id: -1 }, limit + 1);
    const items = docs.slice(0, limit).map(toBan);
    const last = items[items.length - 1];
    return docs.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(last.updatedAtMs, last.id) } : { items };
  }

  async changedSince(sinceMs: number, limit: number): Promise<readonly Ban[]> {
    checkChangedSince(sinceMs, limit);
    const docs = await this.records.findMany({ updatedAtMs: { $gte: sinceMs } }, { updatedAtMs: 1, _id: 1 }, limit);
    return docs.map(toBan);
  }

  /**
   * Every ban in force at `nowMs`, in batches: one `find` whose cursor the driver reads `batchSize`
   * documents at a time (no sort, so no index or in-memory sort is needed, and no page re-runs the
   * query).
   */
  async *streamActive(nowMs: number, batchSize: number): AsyncIterable<readonly Ban[]> {
    checkTime(nowMs, 'nowMs');
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}.`);
    await this.records.whenOpen();
    const filter = { $and: [NOT_LIFTED, { $or: [{ kind: { $eq: 'permanent' } }, { expiresAtMs: { $gt: nowMs } }] }] } as mongo.Filter<BanDoc>;
    const cursor = this.records.collection.find(filter, { batchSize });
    try {
      let batch: Ban[] = [];
      for await (const doc of cursor) {
        batch.push(toBan(doc as BanDoc));
        if (batch.length === batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      await cursor.close();
    }
  }

  async remove(target: BanTarget): Promise<boolean> {
    const { id } = checkBanTarget(target);
    const result = await this.records.collection.deleteMany({ _id: id });
    return result.deletedCount > 0;
  }

  /**
   * Deletes the records whose history retention is over at `nowMs` (what the TTL index does where
   * the server enforces it). Returns how many. Called by `MongoSweeper`.
   */
  async sweep(nowMs: number): Promise<number> {
    checkTime(nowMs, 'nowMs');
    const result = await this.records.collection.deleteMany({ purgeAt: { $lte: toDate(nowMs) } });
    return result.deletedCount;
  }
}

function toBan(doc: BanDoc): Ban {
  return {
    id: doc._id,
    target: doc.targetType === 'cidr' ? { type: 'cidr', cidr: doc.target } : { type: 'key', key: doc.target },
    kind: doc.kind,
    reason: doc.reason ?? '',
    source: doc.source,
    createdBy: doc.createdBy,
    createdAtMs: doc.createdAtMs,
    ...(typeof doc.expiresAtMs === 'number' ? { expiresAtMs: doc.expiresAtMs } : {}),
    violationCount: doc.violationCount,
    blockCount: doc.blockCount ?? 0,
    ...(typeof doc.liftedAtMs === 'number' ? { liftedAtMs: doc.liftedAtMs } : {}),
    ...(typeof doc.liftedBy === 'string' ? { liftedBy: doc.liftedBy } : {}),
    updatedAtMs: doc.updatedAtMs,
    ...(typeof doc.version === 'number' ? { version: doc.version } : {}),
  };
}
