import type { RampartStorage } from '../rampart-storage.interface.js';
import { RedisAccessListStore } from './redis-access-list.store.js';
import { RedisBanStore } from './redis-ban.store.js';
import { checkPrefix, recordKey } from './redis-keys.js';
import { RedisLeaseStore } from './redis-lease.store.js';
import { RedisRateLimitStore } from './redis-rate-limit.store.js';
import { RedisScript, scriptClientOf, type RedisClientLike } from './redis-script.js';
import { RedisViolationStore } from './redis-violation.store.js';

/** Options of `redisStorage()`. */
export interface RedisStorageOptions {
  /**
   * The app's Redis client: an ioredis `Redis` or `Cluster`, or a node-redis client or cluster.
   * Rampart never closes it unless `quitOnClose` says so.
   */
  client: RedisClientLike;
  /** Prefix of every key Rampart writes (see "Redis key layout" in the README). @default 'rampart:' */
  prefix?: string;
  /**
   * How long violations (and ended bans, as history) are kept.
   * @default 2_592_000_000 (30 days)
   */
  violationRetentionMs?: number;
  /** Most rule blocks remembered to answer a blocked client without a round trip. @default 10_000 */
  hintCacheSize?: number;
  /** Close the client (`QUIT`) at shutdown: for a client made for Rampart alone. @default false */
  quitOnClose?: boolean;
}

/** What `redisStorage()` returns: the storage with each store's concrete type. */
export interface RedisStorage extends RampartStorage {
  readonly rateLimits: RedisRateLimitStore;
  readonly bans: RedisBanStore;
  readonly violations: RedisViolationStore;
  readonly accessList: RedisAccessListStore;
  readonly leases: RedisLeaseStore;
  /** Checks that the server answers scripts (one round trip). */
  init(): Promise<void>;
  /** Quits the client when `quitOnClose` is set; otherwise nothing. */
  close(): Promise<void>;
}

const PING = new RedisScript('ping', "return redis.call('EXISTS', KEYS[1])");

/**
 * Everything Rampart keeps, in Redis or Redis Cluster, shared by every instance of an app. Each
 * rate-limit decision is one atomic Lua script (`EVALSHA`), on one key; every script's keys share a
 * hash slot, so a cluster runs it on one node. The app's clock, not Redis's, is the time.
 *
 * @example // the app's ioredis client
 * RateLimitModule.forRoot({ storage: redisStorage({ client: new Redis(process.env.REDIS_URL) }) })
 *
 * @example // counters in Redis, bans, violations and lists in MongoDB
 * RateLimitModule.forRoot({ storage: { counters: redisStorage({ client }), records: mongoStorage({ connection }) } })
 */
export function redisStorage(options: RedisStorageOptions): RedisStorage {
  if (typeof options !== 'object' || options === null) throw new TypeError('redisStorage: pass { client } (an ioredis or node-redis client).');
  const client = scriptClientOf(options.client, 'redisStorage: client');
  const prefix = checkPrefix(options.prefix, 'redisStorage: prefix');
  if (options.quitOnClose !== undefined && typeof options.quitOnClose !== 'boolean') throw new TypeError('redisStorage: quitOnClose must be true or false.');
  const retentionMs = options.violationRetentionMs;
  const retention = retentionMs === undefined ? {} : { retentionMs };
  return {
    rateLimits: new RedisRateLimitStore(client, { prefix, ...(options.hintCacheSize === undefined ? {} : { hintCacheSize: options.hintCacheSize }) }),
    bans: new RedisBanStore(client, { prefix, ...(retentionMs === undefined ? {} : { historyRetentionMs: retentionMs }) }),
    violations: new RedisViolationStore(client, { prefix, ...retention }),
    accessList: new RedisAccessListStore(client, { prefix }),
    leases: new RedisLeaseStore(client, { prefix }),
    async init() {
      await PING.run(client, [recordKey(prefix, 'bans', 'ping')], []);
    },
    async close() {
      if (options.quitOnClose) await (options.client as unknown as { quit(): Promise<unknown> }).quit();
    },
  };
}
