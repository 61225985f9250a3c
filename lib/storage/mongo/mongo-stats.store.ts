import type { Connection, mongo } from 'mongoose';
import type { InstanceStatsSummary } from '../../observability/stats-summary.js';
import type { StatsStore } from '../stats-store.interface.js';
import { checkStatsPut, checkTime } from '../store-input.js';
import { MongoRecordStore, toDate, type MongoRecordStoreOptions } from './mongo-collection.js';
import { STATS_COLLECTION, StatsRecordSchema, type StatsRecord } from './schemas/stats.schema.js';

/** Options of `MongoStatsStore`. */
export type MongoStatsStoreOptions = MongoRecordStoreOptions;

/**
 * Statistics summaries in MongoDB, one document per instance: `{ _id: <instance>, s: <summary>,
 * e: <expiry> }`, replaced whole at each `put` (one `replaceOne` upsert). `list(nowMs)` filters out
 * expired summaries in the query: the TTL index deletes them only lazily (about once a minute on
 * MongoDB, never on servers without TTL, where the sweeper does).
 */
export class MongoStatsStore extends MongoRecordStore<StatsRecord> implements StatsStore {
  constructor(connection: Connection, options: MongoStatsStoreOptions = {}) {
    super(connection, { storeName: 'MongoStatsStore', modelName: 'RampartStats', schema: StatsRecordSchema, defaultCollectionName: STATS_COLLECTION }, options);
  }

  async put(summary: InstanceStatsSummary, expiresAtMs: number): Promise<void> {
    const instance = checkStatsPut(summary, expiresAtMs, 'MongoStatsStore');
    await this.records.collection.replaceOne(
      { _id: instance } as mongo.Filter<StatsRecord>,
      { s: summary, e: toDate(expiresAtMs) } as unknown as mongo.WithoutId<StatsRecord>,
      { upsert: true },
    );
  }

  async list(nowMs: number): Promise<InstanceStatsSummary[]> {
    checkTime(nowMs, 'nowMs');
    const records = await this.records.findMany({ e: { $gt: toDate(nowMs) } } as mongo.Filter<StatsRecord>, { _id: 1 });
    return records.map((record) => record.s);
  }

  /** Deletes the summaries expired at `nowMs` (what the TTL index does). Called by `MongoSweeper`. */
  sweep(nowMs: number): Promise<number> {
    return this.sweepExpired(nowMs);
  }
}
