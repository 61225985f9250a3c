import { Types, type Connection, type mongo } from 'mongoose';

import type { Page, PageRequest } from '../ban-store.interface.js';
import {
  checkDurationOption,
  checkKey,
  checkPageRequest,
  checkTime,
  checkViolation,
  checkViolationFilter,
  decodeCursor,
  DEFAULT_RETENTION_MS,
  encodeCursor,
} from '../store-input.js';
import type { Violation, ViolationFilter, ViolationStore } from '../violation-store.interface.js';
import { MongoRecordStore, toDate } from './mongo-collection.js';
import { VIOLATION_COLLECTION, ViolationRecord, ViolationSchema } from './schemas/violation.schema.js';

/** Options of `MongoViolationStore`. */
export interface MongoViolationStoreOptions {
  /** @default 'rampart_violations' */
  collectionName?: string;
  /**
   * How long a violation is kept. Each one is stored with `purgeAt` = `atMs` + this, which the TTL
   * index (or `MongoSweeper`) acts on; a change applies to violations recorded afterwards.
   * @default 2_592_000_000 (30 days)
   */
  retentionMs?: number;
  /**
   * Create `purgeAt_1` as a TTL index. Set `false` for a server that refuses TTL indexes; old
   * violations are then deleted by `MongoSweeper` only.
   * @default true
   */
  ttlIndex?: boolean;
}

type ViolationDoc = ViolationRecord & { _id: Types.ObjectId };

const OBJECT_ID = /^[0-9a-f]{24}$/;

/**
 * Violation history in MongoDB, shared by every instance of an app: one document per violation
 * (`insertOne`), its `_id` the driver's ObjectId, which orders violations of the same millisecond.
 *
 * @example
 * const violations = new MongoViolationStore(connection, { retentionMs: 7 * 86_400_000 });
 * await violations.init();
 */
export class MongoViolationStore extends MongoRecordStore<ViolationDoc> implements ViolationStore {
  private readonly retentionMs: number;

  constructor(connection: Connection, options: MongoViolationStoreOptions = {}) {
    super(
      connection,
      { storeName: 'MongoViolationStore', modelName: 'RampartViolation', schema: ViolationSchema, defaultCollectionName: VIOLATION_COLLECTION },
      options,
    );
    this.retentionMs = checkDurationOption(options.retentionMs, 'MongoViolationStore: retentionMs', DEFAULT_RETENTION_MS);
  }

  async record(violation: Violation): Promise<void> {
    const v = checkViolation(violation);
    const doc: Omit<ViolationDoc, '_id'> = { ...v, purgeAt: toDate(v.atMs + this.retentionMs) };
    await this.records.collection.insertOne(doc as mongo.OptionalUnlessRequiredId<ViolationDoc>);
  }

  async list(filter: ViolationFilter, page: PageRequest): Promise<Page<Violation>> {
    const f = checkViolationFilter(filter);
    const { limit, cursor } = checkPageRequest(page);
    const query: mongo.Filter<ViolationDoc> = {};
    if (f.key !== undefined) query.key = { $eq: f.key };
    if (f.rule !== undefined) query.rule = { $eq: f.rule };
    if (f.fromMs !== undefined || f.toMs !== undefined) {
      query.atMs = { ...(f.fromMs === undefined ? {} : { $gte: f.fromMs }), ...(f.toMs === undefined ? {} : { $lt: f.toMs }) };
    }
    if (cursor !== undefined) {
      const after = decodeObjectIdCursor(cursor);
      query.$or = [{ atMs: { $lt: after.atMs } }, { atMs: { $eq: after.atMs }, _id: { $lt: after.id } }];
    }
    const docs = await this.records.findMany(query, { atMs: -1, _id: -1 }, limit + 1);
    const picked = docs.slice(0, limit);
    const items = picked.map(toViolation);
    const last = picked[picked.length - 1];
    return docs.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(last.atMs, last._id.toHexString()) } : { items };
  }

  async count(key: string, sinceMs: number): Promise<number> {
    const k = checkKey(key);
    checkTime(sinceMs, 'sinceMs');
    return this.records.collection.countDocuments({ key: { $eq: k }, atMs: { $gte: sinceMs } });
  }

  async deleteByKey(key: string): Promise<number> {
    const k = checkKey(key);
    const result = await this.records.collection.deleteMany({ key: { $eq: k } });
    return result.deletedCount;
  }

  async purge(beforeMs: number): Promise<number> {
    checkTime(beforeMs, 'beforeMs');
    const result = await this.records.collection.deleteMany({ atMs: { $lt: beforeMs } });
    return result.deletedCount;
  }

  /**
   * Deletes the violations past their retention at `nowMs` (what the TTL index does where the server
   * enforces it). Returns how many. Called by `MongoSweeper`.
   */
  async sweep(nowMs: number): Promise<number> {
    checkTime(nowMs, 'nowMs');
    const result = await this.records.collection.deleteMany({ purgeAt: { $lte: toDate(nowMs) } });
    return result.deletedCount;
  }
}

function toViolation(doc: ViolationDoc): Violation {
  return { key: doc.key, rule: doc.rule, route: doc.route, method: doc.method, hits: doc.hits, limit: doc.limit, atMs: doc.atMs };
}

function decodeObjectIdCursor(cursor: string): { atMs: number; id: Types.ObjectId } {
  const { ms, id } = decodeCursor(cursor);
  if (!OBJECT_ID.test(id)) {
    throw new TypeError('page.cursor is not a cursor this store returned: pass the nextCursor of the previous page unchanged, or omit it for the first page.');
  }
  return { atMs: ms, id: new Types.ObjectId(id) };
}
