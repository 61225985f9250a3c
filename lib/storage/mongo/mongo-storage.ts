import mongoose, { type ConnectOptions, type Connection } from 'mongoose';
import type { Clock } from '../../core/clock.js';
import { consoleLogger, type RampartLogger } from '../../core/logger.js';
import type { RampartStorage } from '../rampart-storage.interface.js';
import { MongoAccessListStore } from './mongo-access-list.store.js';
import { MongoBanStore } from './mongo-ban.store.js';
import { MongoLeaseStore } from './mongo-lease.store.js';
import { MongoRateLimitStore, type MongoRateLimitStoreOptions } from './mongo-rate-limit.store.js';
import { MongoStatsStore } from './mongo-stats.store.js';
import { MongoAdaptiveStore } from './mongo-adaptive.store.js';
import { MongoSweeper } from './mongo-sweeper.js';
import { MongoViolationStore } from './mongo-violation.store.js';

/** How often a connection opened from `uri` checks its server unless `connectOptions` says otherwise. */
const OWN_HEARTBEAT_MS = 1_000;

/** Where `mongoStorage()` keeps its data. Give either `connection` or `uri`. */
export interface MongoStorageOptions {
  /**
   * An open Mongoose connection the app owns, e.g. `@InjectConnection()` or, for a named
   * connection, `inject: [getConnectionToken('name')]` in `forRootAsync`. Rampart never closes it.
   */
  connection?: Connection;
  /** A MongoDB connection string: Rampart opens its own connection and closes it at shutdown. */
  uri?: string;
  /** Options of the connection opened from `uri` (e.g. `dbName`). @default { heartbeatFrequencyMS: 1000 } */
  connectOptions?: ConnectOptions;
  /** Collection names. @default rampart_rate_limits, rampart_bans, rampart_violations, rampart_access_list, rampart_leases, rampart_stats, rampart_adaptive */
  collections?: { rateLimits?: string; bans?: string; violations?: string; accessList?: string; leases?: string; stats?: string; adaptive?: string };
  /**
   * How long violations (and ended bans, as history) are kept.
   * @default 2_592_000_000 (30 days)
   */
  violationRetentionMs?: number;
  /**
   * Create the expiry indexes as TTL indexes. `false` for a server that refuses TTL indexes: they
   * are created as plain indexes, and the sweeper runs instead (see `sweeper`).
   * @default true
   */
  ttlIndexes?: boolean;
  /**
   * Run `MongoSweeper`, which deletes expired documents every `sweepIntervalMs`. MongoDB deletes
   * them through the TTL indexes, so it is off unless TTL indexes are off; turn it on for a server
   * that accepts TTL indexes but never expires documents (MongoDB started with
   * `ttlMonitorEnabled: false`, mongo-java-server). Correctness never waits for either: every
   * decision compares the stored expiry with the clock.
   * @default true with `ttlIndexes: false`, otherwise false
   */
  sweeper?: boolean;
  /**
   * Time between sweeps, when the sweeper runs; `false` keeps it off whatever `sweeper` says.
   * @default 60_000
   */
  sweepIntervalMs?: number | false;
  /** Options of the rate-limit store. */
  rateLimits?: Omit<MongoRateLimitStoreOptions, 'collectionName' | 'ttlIndex'>;
  /** Clock of the sweeper (the app's clock). @default the system clock */
  clock?: Clock;
  /** Where failed background writes and failed sweeps are reported. @default consoleLogger */
  logger?: RampartLogger;
}

/** What `mongoStorage()` returns: the storage with each store's concrete type. */
export interface MongoStorage extends RampartStorage {
  readonly connection: Connection;
  readonly rateLimits: MongoRateLimitStore;
  readonly bans: MongoBanStore;
  readonly violations: MongoViolationStore;
  readonly accessList: MongoAccessListStore;
  readonly leases: MongoLeaseStore;
  readonly stats: MongoStatsStore;
  readonly adaptive: MongoAdaptiveStore;
  /** Deletes expired documents; started by `init()` only where `sweeper` says (see the option). */
  readonly sweeper: MongoSweeper;
  /**
   * Waits for the connection, creates the indexes (and checks them), starts the sweeper when it is
   * on. Safe to
   * call again after a failure: a connection opened from `uri` whose first attempt failed is opened
   * again. Index problems reject with a StorageSetupError.
   */
  init(): Promise<void>;
  /** Stops the sweeper and closes the connection when Rampart opened it. */
  close(): Promise<void>;
}

/**
 * Everything Rampart keeps, in MongoDB, shared by every instance of an app: counters, bans,
 * violations and allow/deny lists survive restarts and are seen by every instance.
 *
 * @example // the app's own connection (@nestjs/mongoose)
 * RateLimitModule.forRootAsync({
 *   inject: [getConnectionToken()],
 *   useFactory: (connection: Connection) => ({ storage: mongoStorage({ connection }) }),
 * })
 *
 * @example // a connection of its own
 * RateLimitModule.forRoot({ storage: mongoStorage({ uri: process.env.MONGO_URL }) })
 */
export function mongoStorage(options: MongoStorageOptions): MongoStorage {
  if ((options.connection === undefined) === (options.uri === undefined)) {
    throw new TypeError('mongoStorage: give exactly one of `connection` (an open Mongoose connection) or `uri` (a MongoDB connection string).');
  }
  for (const flag of ['ttlIndexes', 'sweeper'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw new TypeError(`mongoStorage: ${flag} must be true or false.`);
  }
  const owned = options.connection === undefined;
  // A connection of Rampart's own checks on a server it lost every second (the driver's default is
  // 10 s): a server back after an outage is found within about a second, whatever commands wait.
  const connectOptions: ConnectOptions = { heartbeatFrequencyMS: OWN_HEARTBEAT_MS, ...options.connectOptions };
  const connection = options.connection ?? mongoose.createConnection(options.uri as string, connectOptions);
  let opened = connection.readyState === 1;
  connection.once('connected', () => (opened = true));
  let closed = false;
  /** Mongoose does not retry a failed first connection: one opened from `uri` is opened again here. */
  const connect = async (): Promise<void> => {
    if (connection.readyState === 1) return;
    if (owned && !opened && !closed && connection.readyState === 0) {
      await connection.openUri(options.uri as string, connectOptions);
      return;
    }
    await connection.asPromise();
  };
  const ttlIndex = options.ttlIndexes ?? true;
  // Not detected from the server: see "Expired documents" in the README for why.
  const sweeps = options.sweepIntervalMs !== false && (options.sweeper ?? !ttlIndex);
  const logger = options.logger ?? consoleLogger;
  const retentionMs = options.violationRetentionMs;
  const names = options.collections ?? {};
  const rateLimits = new MongoRateLimitStore(connection, {
    logger,
    ...options.rateLimits,
    ttlIndex,
    ...(names.rateLimits ? { collectionName: names.rateLimits } : {}),
  });
  const bans = new MongoBanStore(connection, {
    ttlIndex,
    ...(names.bans ? { collectionName: names.bans } : {}),
    ...(retentionMs !== undefined ? { historyRetentionMs: retentionMs } : {}),
  });
  const violations = new MongoViolationStore(connection, {
    ttlIndex,
    ...(names.violations ? { collectionName: names.violations } : {}),
    ...(retentionMs !== undefined ? { retentionMs } : {}),
  });
  const accessList = new MongoAccessListStore(connection, { ttlIndex, ...(names.accessList ? { collectionName: names.accessList } : {}) });
  const leases = new MongoLeaseStore(connection, { ttlIndex, ...(names.leases ? { collectionName: names.leases } : {}) });
  const stats = new MongoStatsStore(connection, { ttlIndex, ...(names.stats ? { collectionName: names.stats } : {}) });
  const adaptive = new MongoAdaptiveStore(connection, { ttlIndex, ...(names.adaptive ? { collectionName: names.adaptive } : {}) });
  const sweeper = new MongoSweeper(
    { rateLimits, bans, violations, accessList, leases, stats, adaptive },
    {
      ...(options.sweepIntervalMs ? { intervalMs: options.sweepIntervalMs } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      onError: (error) => logger.warn(`MongoSweeper: a sweep failed (the next one runs as planned): ${error instanceof Error ? error.message : String(error)}`),
    },
  );

  return {
    connection,
    rateLimits,
    bans,
    violations,
    accessList,
    leases,
    stats,
    adaptive,
    sweeper,
    async init() {
      await connect();
      await Promise.all([rateLimits.init(), bans.init(), violations.init(), accessList.init(), leases.init(), stats.init(), adaptive.init()]);
      if (sweeps && !closed) sweeper.start();
    },
    async close() {
      closed = true;
      sweeper.stop();
      await rateLimits.flush();
      if (owned) await connection.close();
    },
  };
}
