import type { InstanceStatsSummary } from '../../observability/stats-summary.js';
import type { StatsStore } from '../stats-store.interface.js';
import { checkStatsPut, checkTime } from '../store-input.js';
import { checkPrefix, keyTtlMs, recordKey } from './redis-keys.js';
import { LUA_EXTEND } from './redis-lua.js';
import { RedisScript, type ScriptClient } from './redis-script.js';

/** Options of `RedisStatsStore`. */
export interface RedisStatsStoreOptions {
  /** The start of every key (`<prefix>{stats}:summaries`, `<prefix>{stats}:expiry`). @default 'rampart:' */
  prefix?: string;
}

/**
 * KEYS: the summaries, their expiries. ARGV: instance, summary JSON, expiresAtMs, the writer's now,
 * TTL. Forgets the summaries expired at the writer's now, then writes this one.
 */
const PUT = new RedisScript(
  'rampart-stats-put',
  `${LUA_EXTEND}
local summaries, expiry = KEYS[1], KEYS[2]
local expired = redis.call('ZRANGE', expiry, '-inf', ARGV[4], 'BYSCORE')
for _, instance in ipairs(expired) do redis.call('HDEL', summaries, instance) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', expiry, '-inf', ARGV[4]) end
redis.call('HSET', summaries, ARGV[1], ARGV[2])
redis.call('ZADD', expiry, ARGV[3], ARGV[1])
extend(summaries, ARGV[5])
extend(expiry, ARGV[5])
return 1`,
);

/** KEYS: the summaries, their expiries. ARGV: nowMs. The JSON of every summary expiring after nowMs. */
const LIST = new RedisScript(
  'rampart-stats-list',
  `local live = redis.call('ZRANGE', KEYS[2], '(' .. ARGV[1], '+inf', 'BYSCORE')
if #live == 0 then return {} end
local out = {}
for i, json in ipairs(redis.call('HMGET', KEYS[1], unpack(live))) do
  if json then out[#out + 1] = json end
end
return out`,
);

/**
 * Statistics summaries in Redis (or Redis Cluster), one per instance, both keys in the hash tag
 * `{stats}` (one slot):
 *
 * - `<prefix>{stats}:summaries`: hash, instance → summary JSON (written by JavaScript, never
 *   re-encoded by Lua, so numbers stay exact);
 * - `<prefix>{stats}:expiry`: sorted set, instance → expiresAtMs (the app's clock).
 *
 * `put` replaces the instance's summary and forgets those expired at the writer's time (so the
 * summaries of instances that died go with the next write of any other); `list(nowMs)` reads those
 * expiring after `nowMs`. Each is one script.
 */
export class RedisStatsStore implements StatsStore {
  private readonly keys: readonly [string, string];

  constructor(
    private readonly client: ScriptClient,
    options: RedisStatsStoreOptions = {},
  ) {
    const prefix = checkPrefix(options.prefix, 'RedisStatsStore: prefix');
    this.keys = [recordKey(prefix, 'stats', 'summaries'), recordKey(prefix, 'stats', 'expiry')];
  }

  async put(summary: InstanceStatsSummary, expiresAtMs: number): Promise<void> {
    const instance = checkStatsPut(summary, expiresAtMs, 'RedisStatsStore');
    const ttlMs = keyTtlMs(summary.atMs, expiresAtMs);
    await PUT.run(this.client, this.keys, [instance, JSON.stringify(summary), String(expiresAtMs), String(summary.atMs), ttlMs]);
  }

  async list(nowMs: number): Promise<InstanceStatsSummary[]> {
    checkTime(nowMs, 'nowMs');
    const replies = (await LIST.run(this.client, this.keys, [String(nowMs)])) as string[];
    return replies.map((json) => JSON.parse(json) as InstanceStatsSummary);
  }
}
