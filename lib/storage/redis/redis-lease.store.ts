import type { Lease, LeaseAcquisition, LeaseStore } from '../lease-store.interface.js';
import { checkLeaseKey, checkTime, nonEmptyString, record } from '../store-input.js';
import { checkPrefix, recordKey } from './redis-keys.js';
import { LUA_EXTEND } from './redis-lua.js';
import { RedisScript, type ScriptClient } from './redis-script.js';

/** Options of `RedisLeaseStore`. */
export interface RedisLeaseStoreOptions {
  /**
   * The start of every key (`<prefix>{leases}:pool:<key>`, `:holders:<key>`, `:held-by:<holder>`).
   * @default 'rampart:'
   */
  prefix?: string;
}

/**
 * How long a lease key outlives the latest lease expiry written to it, as a Redis TTL: only so that
 * the keys of an instance that died, on pools nobody uses again, do not stay forever. Lapsed leases
 * are told by comparing their expiry with the caller's `nowMs`, never by the TTL.
 */
const KEY_TTL_MARGIN_MS = 86_400_000;
/** Longest TTL set (10 years): a lease lasting longer keeps its keys at least this long. */
const MAX_KEY_TTL_MS = 10 * 365 * 86_400_000;

/**
 * KEYS: the pool, its holders, the holder's leases. ARGV: lease id, holder, expiresAtMs, limit,
 * nowMs, TTL, the pool's key, the prefix of holders' lease keys.
 */
const ACQUIRE = new RedisScript(
  'rampart-lease-acquire',
  `${LUA_EXTEND}
local pool, holders, mine = KEYS[1], KEYS[2], KEYS[3]
local lapsed = redis.call('ZRANGE', pool, '-inf', ARGV[5], 'BYSCORE')
for _, id in ipairs(lapsed) do
  local holder = redis.call('HGET', holders, id)
  if holder then redis.call('HDEL', ARGV[8] .. holder, id) end
  redis.call('HDEL', holders, id)
end
if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', pool, '-inf', ARGV[5]) end
local held = redis.call('ZCARD', pool)
if held >= tonumber(ARGV[4]) then return { 0, held } end
redis.call('ZADD', pool, ARGV[3], ARGV[1])
redis.call('HSET', holders, ARGV[1], ARGV[2])
redis.call('HSET', mine, ARGV[1], ARGV[7])
extend(pool, ARGV[6])
extend(holders, ARGV[6])
extend(mine, ARGV[6])
return { 1, redis.call('ZCARD', pool) }`,
);

/** KEYS: the pool, its holders. ARGV: lease id, the prefix of holders' lease keys. */
const RELEASE = new RedisScript(
  'rampart-lease-release',
  `local holder = redis.call('HGET', KEYS[2], ARGV[1])
if holder then redis.call('HDEL', ARGV[2] .. holder, ARGV[1]) end
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('ZREM', KEYS[1], ARGV[1])`,
);

/**
 * KEYS: the holder's leases. ARGV: nowMs, expiresAtMs, TTL, the prefix of pools, the prefix of pools'
 * holders. A live lease gets the new expiry; a lapsed or vanished one is dropped.
 */
const RENEW = new RedisScript(
  'rampart-lease-renew',
  `${LUA_EXTEND}
local mine = KEYS[1]
local leases = redis.call('HGETALL', mine)
for i = 1, #leases, 2 do
  local id, pool, holders = leases[i], ARGV[4] .. leases[i + 1], ARGV[5] .. leases[i + 1]
  local expiresAtMs = redis.call('ZSCORE', pool, id)
  if expiresAtMs and tonumber(expiresAtMs) > tonumber(ARGV[1]) then
    redis.call('ZADD', pool, 'XX', ARGV[2], id)
    extend(pool, ARGV[3])
    extend(holders, ARGV[3])
  else
    redis.call('ZREM', pool, id)
    redis.call('HDEL', holders, id)
    redis.call('HDEL', mine, id)
  end
end
extend(mine, ARGV[3])
return 1`,
);

/** KEYS: the holder's leases. ARGV: the prefix of pools, the prefix of pools' holders. */
const RELEASE_HOLDER = new RedisScript(
  'rampart-lease-release-holder',
  `local leases = redis.call('HGETALL', KEYS[1])
for i = 1, #leases, 2 do
  redis.call('ZREM', ARGV[1] .. leases[i + 1], leases[i])
  redis.call('HDEL', ARGV[2] .. leases[i + 1], leases[i])
end
return redis.call('DEL', KEYS[1])`,
);

/** KEYS: the pool. ARGV: nowMs. */
const COUNT = new RedisScript('rampart-lease-count', `return redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf')`);

/**
 * Leases in Redis (or Redis Cluster), shared by every instance of an app. Every key is in the hash
 * tag `{leases}` (one hash slot), so that each method is one script however many pools it touches:
 *
 * - `<prefix>{leases}:pool:<key>`: sorted set, lease id → expiresAtMs (the app's clock);
 * - `<prefix>{leases}:holders:<key>`: hash, lease id → holder;
 * - `<prefix>{leases}:held-by:<holder>`: hash, lease id → key (what `renew` and `releaseHolder` walk).
 *
 * `acquire` drops the pool's lapsed leases, counts the rest and adds the lease in one script, so N
 * concurrent calls from any number of instances take at most `limit` between them. Each key gets a
 * TTL a day past the latest expiry written to it, so that the keys of pools nobody uses again go
 * away; correctness never depends on it.
 *
 * @example
 * const leases = new RedisLeaseStore(scriptClientOf(redis));
 */
export class RedisLeaseStore implements LeaseStore {
  private readonly poolPrefix: string;
  private readonly holdersPrefix: string;
  private readonly heldByPrefix: string;

  constructor(
    private readonly client: ScriptClient,
    options: RedisLeaseStoreOptions = {},
  ) {
    const prefix = checkPrefix(options.prefix, 'RedisLeaseStore: prefix');
    this.poolPrefix = recordKey(prefix, 'leases', 'pool:');
    this.holdersPrefix = recordKey(prefix, 'leases', 'holders:');
    this.heldByPrefix = recordKey(prefix, 'leases', 'held-by:');
  }

  async acquire(key: string, lease: Lease, limit: number, nowMs: number): Promise<LeaseAcquisition> {
    checkLeaseKey(key, 'RedisLeaseStore');
    const l = record(lease, 'lease');
    const id = nonEmptyString(l['id'], 'lease.id');
    const holder = nonEmptyString(l['holder'], 'lease.holder');
    const expiresAtMs = checkTime(l['expiresAtMs'], 'lease.expiresAtMs');
    checkTime(nowMs, 'nowMs');
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`RedisLeaseStore: limit must be a positive integer, got ${String(limit)}.`);
    const keys = [this.poolPrefix + key, this.holdersPrefix + key, this.heldByPrefix + holder];
    const args = [id, holder, String(expiresAtMs), limit, String(nowMs), keyTtlMs(nowMs, expiresAtMs), key, this.heldByPrefix];
    const [acquired, held] = (await ACQUIRE.run(this.client, keys, args)) as [number, number];
    return { acquired: acquired === 1, held };
  }

  async release(key: string, id: string): Promise<void> {
    checkLeaseKey(key, 'RedisLeaseStore');
    await RELEASE.run(this.client, [this.poolPrefix + key, this.holdersPrefix + key], [nonEmptyString(id, 'id'), this.heldByPrefix]);
  }

  async renew(holder: string, nowMs: number, expiresAtMs: number): Promise<void> {
    checkTime(nowMs, 'nowMs');
    checkTime(expiresAtMs, 'expiresAtMs');
    const args = [String(nowMs), String(expiresAtMs), keyTtlMs(nowMs, expiresAtMs), this.poolPrefix, this.holdersPrefix];
    await RENEW.run(this.client, [this.heldByPrefix + nonEmptyString(holder, 'holder')], args);
  }

  async releaseHolder(holder: string): Promise<void> {
    await RELEASE_HOLDER.run(this.client, [this.heldByPrefix + nonEmptyString(holder, 'holder')], [this.poolPrefix, this.holdersPrefix]);
  }

  async count(key: string, nowMs: number): Promise<number> {
    checkLeaseKey(key, 'RedisLeaseStore');
    checkTime(nowMs, 'nowMs');
    return (await COUNT.run(this.client, [this.poolPrefix + key], [String(nowMs)])) as number;
  }
}

/** The TTL of keys holding a lease until `expiresAtMs`: its remaining time plus a day, relative to the app's `nowMs`. */
function keyTtlMs(nowMs: number, expiresAtMs: number): number {
  return Math.ceil(Math.min(Math.max(expiresAtMs - nowMs, 0), MAX_KEY_TTL_MS)) + KEY_TTL_MARGIN_MS;
}
