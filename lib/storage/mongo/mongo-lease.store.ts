import type { Connection, mongo } from 'mongoose';
import type { Lease, LeaseAcquisition, LeaseStore } from '../lease-store.interface.js';
import { checkLeaseKey, checkTime } from '../store-input.js';
import { isDuplicateKey, MongoRecordStore, toDate, type MongoRecordStoreOptions } from './mongo-collection.js';
import { LEASE_COLLECTION, LeasePoolSchema, type LeaseEntry, type LeasePool } from './schemas/lease.schema.js';

/** Options of `MongoLeaseStore`. */
export type MongoLeaseStoreOptions = MongoRecordStoreOptions;

/** Attempts at taking a lease while other instances change the pool at the same moment. */
const MAX_ATTEMPTS = 4;

/**
 * Leases in MongoDB, one document per pool: `{ _id: <key>, l: [{ i, h, x }], e }`. Taking a lease
 * is one atomic update that appends it only while the pool holds fewer than `limit` entries
 * (`l.<limit-1>` does not exist), so concurrent instances never take more than `limit`. Lapsed
 * leases are pulled out only when the pool looks full (a second command), so the usual case is one
 * round trip. An instance renews all its leases with one `updateMany` per lease period.
 */
export class MongoLeaseStore extends MongoRecordStore<LeasePool> implements LeaseStore {
  constructor(connection: Connection, options: MongoLeaseStoreOptions = {}) {
    super(
      connection,
      { storeName: 'MongoLeaseStore', modelName: 'RampartLeasePool', schema: LeasePoolSchema, defaultCollectionName: LEASE_COLLECTION },
      options,
    );
  }

  async acquire(key: string, lease: Lease, limit: number, nowMs: number): Promise<LeaseAcquisition> {
    checkLeaseKey(key, 'MongoLeaseStore');
    checkTime(nowMs, 'nowMs');
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`MongoLeaseStore: limit must be a positive integer, got ${String(limit)}.`);
    const entry: LeaseEntry = { i: lease.id, h: lease.holder, x: lease.expiresAtMs };
    const { collection } = this.records;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        const pool = await collection.findOneAndUpdate(
          { _id: key, [`l.${limit - 1}`]: { $exists: false } } as mongo.Filter<LeasePool>,
          { $push: { l: entry }, $max: { e: toDate(lease.expiresAtMs) } } as unknown as mongo.UpdateFilter<LeasePool>,
          { upsert: true, returnDocument: 'after' },
        );
        if (pool) return { acquired: true, held: live(pool.l, nowMs) };
      } catch (error) {
        // The pool exists and is full (the upsert tried to insert it again), or two first leases raced.
        if (!isDuplicateKey(error)) throw error;
      }
      const pulled = await collection.updateOne(
        { _id: key } as mongo.Filter<LeasePool>,
        {
          $pull: { l: { x: { $lte: nowMs } } },
        } as unknown as mongo.UpdateFilter<LeasePool>,
      );
      if (pulled.modifiedCount > 0 || pulled.matchedCount === 0) continue;
      const held = await this.count(key, nowMs);
      if (held >= limit) return { acquired: false, held };
    }
    return { acquired: false, held: await this.count(key, nowMs) };
  }

  async release(key: string, id: string): Promise<void> {
    checkLeaseKey(key, 'MongoLeaseStore');
    await this.records.collection.updateOne({ _id: key } as mongo.Filter<LeasePool>, { $pull: { l: { i: id } } } as unknown as mongo.UpdateFilter<LeasePool>);
  }

  async renew(holder: string, nowMs: number, expiresAtMs: number): Promise<void> {
    checkTime(nowMs, 'nowMs');
    checkTime(expiresAtMs, 'expiresAtMs');
    await this.records.collection.updateMany(
      { 'l.h': holder } as mongo.Filter<LeasePool>,
      { $set: { 'l.$[held].x': expiresAtMs }, $max: { e: toDate(expiresAtMs) } } as unknown as mongo.UpdateFilter<LeasePool>,
      { arrayFilters: [{ 'held.h': holder, 'held.x': { $gt: nowMs } }] },
    );
  }

  async releaseHolder(holder: string): Promise<void> {
    await this.records.collection.updateMany(
      { 'l.h': holder } as mongo.Filter<LeasePool>,
      { $pull: { l: { h: holder } } } as unknown as mongo.UpdateFilter<LeasePool>,
    );
  }

  async count(key: string, nowMs: number): Promise<number> {
    checkLeaseKey(key, 'MongoLeaseStore');
    const pool = await this.records.collection.findOne({ _id: key } as mongo.Filter<LeasePool>);
    return pool ? live(pool.l, nowMs) : 0;
  }

  /** Deletes the pools whose every lease lapsed before `nowMs` (what the TTL index does). Called by `MongoSweeper`. */
  sweep(nowMs: number): Promise<number> {
    return this.sweepExpired(nowMs);
  }
}

function live(entries: readonly LeaseEntry[] | undefined, nowMs: number): number {
  let count = 0;
  for (const entry of entries ?? []) if (entry.x > nowMs) count++;
  return count;
}
