import type { RampartStorage } from '../rampart-storage.interface.js';
import { StorageSetupError } from '../storage-setup.error.js';
import { RedisAccessListStore } from './redis-access-list.store.js';
import { RedisBanStore } from './redis-ban.store.js';
import { checkPrefix, recordKey } from './redis-keys.js';
import { RedisLeaseStore } from './redis-lease.store.js';
import { RedisRateLimitStore } from './redis-rate-limit.store.js';
import { RedisScript, scriptClientOf, type RedisClientLike, type ReplicaWait } from './redis-script.js';
import { RedisStatsStore } from './redis-stats.store.js';
import { RedisAdaptiveStore } from './redis-adaptive.store.js';
import { RedisViolationStore } from './redis-violation.store.js';

/** Options of `redisStorage()`. */
export interface RedisStorageOptions {
  /**
   * The app's Redis client: an ioredis `Redis` or `Cluster` (without ioredis's `keyPrefix`: use `prefix`).
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
  /**
   * Replicas every ban, lift and allow/deny-list change must reach before it is reported made
   * (`WAIT` on the connection that wrote it; ioredis clients only), so that a failover never loses
   * one: Redis replicates asynchronously. A change fewer replicas had within `timeoutMs` fails with
   * a RedisReplicationError (it is made on the master). Counters never wait. Off by default: with
   * no replica, every such write would wait `timeoutMs` and fail.
   * @example { replicas: 1, timeoutMs: 1_000 } // a master and one replica per shard
   */
  waitForReplicas?: ReplicaWait;
}

/** What `redisStorage()` returns: the storage with each store's concrete type. */
export interface RedisStorage extends RampartStorage {
  readonly rateLimits: RedisRateLimitStore;
  readonly bans: RedisBanStore;
  readonly violations: RedisViolationStore;
  readonly accessList: RedisAccessListStore;
  readonly leases: RedisLeaseStore;
  readonly stats: RedisStatsStore;
  readonly adaptive: RedisAdaptiveStore;
  /** Checks that the server answers scripts (one round trip). */
  init(): Promise<void>;
  /** Quits the client when `quitOnClose` is set; otherwise nothing. */
  close(): Promise<void>;
}

/**
 * The startup check: the server runs scripts, and knows the commands the stores need (`ZRANGE …
 * BYLEX LIMIT`, `ZADD GT`: Redis 6.2 and later). An older server fails here, not at the first ban.
 */
const CHECK = new RedisScript(
  'rampart-check',
  "redis.call('ZRANGE', KEYS[1], '-', '+', 'BYLEX', 'LIMIT', 0, 1) redis.call('ZADD', KEYS[1], 'GT', 'CH', 0, 'x') redis.call('DEL', KEYS[1]) return 1",
);

/** What `connected` reads of an ioredis `Redis` or `Cluster`. */
interface ConnectingClient {
  readonly status: string;
  once(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
  connect?(): Promise<unknown>;
}

/**
 * Resolves once an ioredis client that is connecting (at startup, or after losing its server) is
 * ready, and rejects if it gives up (`end`): a client made with `enableOfflineQueue: false` refuses
 * commands until then, so an app's first `init()` would fail while its client is still connecting.
 * Failed attempts do not end the wait (the client tries again by its `retryStrategy`); the caller
 * bounds it (the module's `storeStartupTimeoutMs`). At once for any other client.
 */
function connected(client: unknown): Promise<void> {
  const c = client as Partial<ConnectingClient>;
  if (!['wait', 'connecting', 'connect', 'reconnecting'].includes(c.status as string) || typeof c.once !== 'function' || typeof c.off !== 'function') {
    return Promise.resolve();
  }
  const connecting = c as ConnectingClient;
  // lazyConnect: the client connects on its first command, which it refuses without an offline queue.
  if (connecting.status === 'wait') void connecting.connect?.().catch(() => undefined);
  return new Promise<void>((resolve, reject) => {
    const settle = () => {
      connecting.off('ready', settle);
      connecting.off('end', settle);
      if (connecting.status === 'ready') resolve();
      else reject(new Error('the Redis client gave up connecting (its retryStrategy returned no delay)'));
    };
    connecting.once('ready', settle);
    connecting.once('end', settle);
  });
}

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
  if (typeof options !== 'object' || options === null) throw new TypeError('redisStorage: pass { client } (an ioredis client or Cluster).');
  const client = scriptClientOf(options.client, 'redisStorage: client');
  const prefix = checkPrefix(options.prefix, 'redisStorage: prefix');
  if (options.quitOnClose !== undefined && typeof options.quitOnClose !== 'boolean') throw new TypeError('redisStorage: quitOnClose must be true or false.');
  const retentionMs = options.violationRetentionMs;
  const retention = retentionMs === undefined ? {} : { retentionMs };
  let connecting: Promise<void> | undefined;
  const waitForReplicas = options.waitForReplicas === undefined ? {} : { waitForReplicas: options.waitForReplicas };
  return {
    rateLimits: new RedisRateLimitStore(client, { prefix, ...(options.hintCacheSize === undefined ? {} : { hintCacheSize: options.hintCacheSize }) }),
    bans: new RedisBanStore(client, { prefix, ...waitForReplicas, ...(retentionMs === undefined ? {} : { historyRetentionMs: retentionMs }) }),
    violations: new RedisViolationStore(client, { prefix, ...retention }),
    accessList: new RedisAccessListStore(client, { prefix, ...waitForReplicas }),
    leases: new RedisLeaseStore(client, { prefix }),
    stats: new RedisStatsStore(client, { prefix }),
    adaptive: new RedisAdaptiveStore(client, { prefix }),
    async init() {
      // One wait at a time, however often a slow startup calls init() again.
      await (connecting ??= connected(options.client).finally(() => (connecting = undefined)));
      try {
        await CHECK.run(client, [recordKey(prefix, 'bans', 'check')], []);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!/syntax error|ERR.*(GT|BYLEX|wrong number)/i.test(message)) throw error;
        throw new StorageSetupError(
          `redisStorage: the Redis server does not know ZRANGE … BYLEX LIMIT or ZADD GT, which Rampart needs: use Redis 6.2 or later (${message}).`,
        );
      }
    },
    async close() {
      if (!options.quitOnClose) return;
      const own = options.client as unknown as { quit(): Promise<unknown>; disconnect(): void; status?: string };
      if (own.status === 'end') return;
      // QUIT needs the server: while it is not connected, drop the connection instead.
      if (own.status !== 'ready') own.disconnect();
      else await own.quit().catch(() => own.disconnect());
    },
  };
}
