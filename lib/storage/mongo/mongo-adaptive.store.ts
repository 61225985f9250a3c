import type { Connection, mongo } from 'mongoose';
import type { AdaptiveState } from '../../adaptive/adaptive-math.js';
import type { AdaptiveStore } from '../adaptive-store.interface.js';
import { checkKey, checkTime } from '../store-input.js';
import { MongoRecordStore, toDate, type MongoRecordStoreOptions } from './mongo-collection.js';
import { ADAPTIVE_COLLECTION, AdaptiveRecordSchema, type AdaptiveRecord } from './schemas/adaptive-state.schema.js';

/** Options of `MongoAdaptiveStore`. */
export type MongoAdaptiveStoreOptions = MongoRecordStoreOptions;

/**
 * The state of adaptive limits in MongoDB, one document per store key: `{ _id: <key>, s: <state>,
 * e: <expiry> }`, replaced whole by `put` (one `replaceOne` upsert), read by `get` (one `findOne`
 * that filters out an expired state: the TTL index deletes them only lazily).
 */
export class MongoAdaptiveStore extends MongoRecordStore<AdaptiveRecord> implements AdaptiveStore {
  constructor(connection: Connection, options: MongoAdaptiveStoreOptions = {}) {
    super(
      connection,
      { storeName: 'MongoAdaptiveStore', modelName: 'RampartAdaptive', schema: AdaptiveRecordSchema, defaultCollectionName: ADAPTIVE_COLLECTION },
      options,
    );
  }

  async get(key: string, nowMs: number): Promise<AdaptiveState | undefined> {
    // The key is only ever a value compared with `_id`, never an operator.
    const filter = { _id: checkKey(key), e: { $gt: toDate(checkTime(nowMs, 'nowMs')) } } as mongo.Filter<AdaptiveRecord>;
    const record = await this.records.collection.findOne(filter, { projection: { s: 1 } });
    return record?.s ?? undefined;
  }

  async put(key: string, state: AdaptiveState, expiresAtMs: number): Promise<void> {
    checkTime(expiresAtMs, 'expiresAtMs');
    await this.records.collection.replaceOne(
      { _id: checkKey(key) } as mongo.Filter<AdaptiveRecord>,
      { s: { ...state }, e: toDate(expiresAtMs) } as unknown as mongo.WithoutId<AdaptiveRecord>,
      { upsert: true },
    );
  }

  /** Deletes the states expired at `nowMs` (what the TTL index does). Called by `MongoSweeper`. */
  sweep(nowMs: number): Promise<number> {
    return this.sweepExpired(nowMs);
  }
}
