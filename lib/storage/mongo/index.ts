/**
 * `nest-rampart/mongo`: Rampart's state in MongoDB through Mongoose, shared by every instance of an
 * app. A separate entry point, so that apps without Mongoose never load it.
 */
export { mongoStorage, type MongoStorage, type MongoStorageOptions } from './mongo-storage.js';
export { MongoRateLimitStore, type MongoRateLimitStoreOptions, type MongoRateLimitStoreStats } from './mongo-rate-limit.store.js';
export { MongoBanStore, type MongoBanStoreOptions } from './mongo-ban.store.js';
export { MongoViolationStore, type MongoViolationStoreOptions } from './mongo-violation.store.js';
export { MongoAccessListStore, type MongoAccessListStoreOptions } from './mongo-access-list.store.js';
export { MongoLeaseStore, type MongoLeaseStoreOptions } from './mongo-lease.store.js';
export { MongoStatsStore, type MongoStatsStoreOptions } from './mongo-stats.store.js';
export { MongoAdaptiveStore, type MongoAdaptiveStoreOptions } from './mongo-adaptive.store.js';
export { MongoSweeper, type MongoSweeperOptions, type SweepCounts } from './mongo-sweeper.js';
