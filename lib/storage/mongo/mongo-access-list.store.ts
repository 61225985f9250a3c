import type { Connection, mongo } from 'mongoose';

import type { AccessListEntry, AccessListKind, AccessListStore } from '../access-list-store.interface.js';
import {
  canonicalCidr,
  checkAccessKind,
  checkAccessListEntry,
  checkChangedSince,
  checkDurationOption,
  checkTime,
  DEFAULT_RETENTION_MS,
  type NewAccessListEntry,
} from '../store-input.js';
import { MongoRecordStore, retryOnDuplicateKey, toDate } from './mongo-collection.js';
import { ACCESS_LIST_COLLECTION, AccessListEntryRecord, AccessListEntrySchema } from './schemas/access-list-entry.schema.js';

/** Options of `MongoAccessListStore`. */
export interface MongoAccessListStoreOptions {
  /** @default 'rampart_access_list' */
  collectionName?: string;
  /**
   * How long a removed or expired entry is kept after it ended (removals reach other instances
   * through `changedSince`), before the TTL index or `MongoSweeper` deletes it.
   * @default 2_592_000_000 (30 days)
   */
  historyRetentionMs?: number;
  /**
   * Create `purgeAt_1` as a TTL index. Set `false` for a server that refuses TTL indexes; ended
   * entries are then deleted by `MongoSweeper` only.
   * @default true
   */
  ttlIndex?: boolean;
}

type AccessListDoc = AccessListEntryRecord;

/** Entries not removed: in a MongoDB filter, `null` matches a missing field. */
const NOT_REMOVED = { removedAtMs: null } as unknown as mongo.Filter<AccessListDoc>;

/**
 * Allow- and deny-list entries in MongoDB, one document per (kind, CIDR): `_id` = `<kind>:<cidr>`.
 * CIDRs are stored canonical (`10.0.0.1` is `10.0.0.1/32`); a range with host bits set, such as
 * `10.0.0.5/8`, is refused with a RangeError naming the network to write instead.
 *
 * @example
 * const accessList = new MongoAccessListStore(connection);
 * await accessList.init();
 */
export class MongoAccessListStore extends MongoRecordStore<AccessListDoc> implements AccessListStore {
  private readonly historyRetentionMs: number;
  /** Duplicate-key races lost on a first upsert and retried (for tests and metrics). */
  duplicateKeyRetries = 0;

  constructor(connection: Connection, options: MongoAccessListStoreOptions = {}) {
    super(
      connection,
      { storeName: 'MongoAccessListStore', modelName: 'RampartAccessListEntry', schema: AccessListEntrySchema, defaultCollectionName: ACCESS_LIST_COLLECTION },
      options,
    );
    this.historyRetentionMs = checkDurationOption(options.historyRetentionMs, 'MongoAccessListStore: historyRetentionMs', DEFAULT_RETENTION_MS);
  }

  async put(entry: NewAccessListEntry, nowMs: number): Promise<AccessListEntry> {
    const { id, ...fields } = checkAccessListEntry(entry);
    checkTime(nowMs, 'nowMs');
    const set: Partial<AccessListDoc> = {
      kind: fields.kind,
      cidr: fields.cidr,
      createdBy: fields.createdBy,
      createdAtMs: fields.createdAtMs,
      updatedAtMs: nowMs,
    };
    const unset: Record<string, ''> = { removedAtMs: '' };
    if (fields.note === undefined) unset['note'] = '';
    else set.note = fields.note;
    if (fields.expiresAtMs === undefined) {
      unset['expiresAtMs'] = '';
      unset['purgeAt'] = '';
    } else {
      set.expiresAtMs = fields.expiresAtMs;
      set.purgeAt = toDate(fields.expiresAtMs + this.historyRetentionMs);
    }
    // The stored entry is exactly what is set here, so it needs no read back.
    await retryOnDuplicateKey(
      () => this.records.collection.updateOne({ _id: id }, { $set: set, $unset: unset }, { upsert: true }),
      () => this.duplicateKeyRetries++,
    );
    return { ...fields, updatedAtMs: nowMs };
  }

  async remove(kind: AccessListKind, cidr: string, nowMs: number): Promise<boolean> {
    const id = `${checkAccessKind(kind)}:${canonicalCidr(cidr)}`;
    checkTime(nowMs, 'nowMs');
    const result = await this.records.collection.updateOne(
      { _id: id, ...NOT_REMOVED },
      {
        $set: { removedAtMs: nowMs, updatedAtMs: nowMs },
        // Kept for the retention period after it ended: removed, or expired earlier.
        $min: { purgeAt: toDate(nowMs + this.historyRetentionMs) },
      },
    );
    return result.matchedCount > 0;
  }

  async list(kind?: AccessListKind): Promise<readonly AccessListEntry[]> {
    const filter: mongo.Filter<AccessListDoc> = { ...NOT_REMOVED };
    if (kind !== undefined) filter.kind = { $eq: checkAccessKind(kind) };
    const docs = await this.records.findMany(filter, { _id: 1 });
    return docs.map(toEntry);
  }

  async changedSince(sinceMs: number, limit: number): Promise<readonly AccessListEntry[]> {
    checkChangedSince(sinceMs, limit);
    const docs = await this.records.findMany({ updatedAtMs: { $gte: sinceMs } }, { updatedAtMs: 1, _id: 1 }, limit);
    return docs.map(toEntry);
  }

  /**
   * Deletes the entries whose history retention is over at `nowMs` (what the TTL index does where the
   * server enforces it). Returns how many. Called by `MongoSweeper`.
   */
  async sweep(nowMs: number): Promise<number> {
    checkTime(nowMs, 'nowMs');
    const result = await this.records.collection.deleteMany({ purgeAt: { $lte: toDate(nowMs) } });
    return result.deletedCount;
  }
}

function toEntry(doc: AccessListDoc): AccessListEntry {
  return {
    cidr: doc.cidr,
    kind: doc.kind,
    ...(typeof doc.note === 'string' ? { note: doc.note } : {}),
    createdBy: doc.createdBy,
    createdAtMs: doc.createdAtMs,
    ...(typeof doc.expiresAtMs === 'number' ? { expiresAtMs: doc.expiresAtMs } : {}),
    ...(typeof doc.removedAtMs === 'number' ? { removedAtMs: doc.removedAtMs } : {}),
    updatedAtMs: doc.updatedAtMs,
  };
}
