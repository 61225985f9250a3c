import type { AccessListEntry, AccessListKind, AccessListStore } from '../access-list-store.interface.js';
import { canonicalCidr, checkAccessKind, checkAccessListEntry, checkChangedSince, checkTime, type NewAccessListEntry } from '../store-input.js';
import { LUA_RECORDS } from './redis-lua.js';
import { decodeFields, encodeFields, optionalNum, RedisRecordSet, SWEEP_PER_WRITE } from './redis-record-set.js';
import { RedisScript, type ReplicaWait, type ScriptClient } from './redis-script.js';

/** Options of `RedisAccessListStore`. */
export interface RedisAccessListStoreOptions {
  /**
   * The start of every key (`<prefix>{access}:records`, `:order`, `:purge`).
   * @default 'rampart:'
   */
  prefix?: string;
  /**
   * How long a removed or expired entry is kept after it ended (removals reach other instances
   * through `changedSince`). Such entries are forgotten by later writes, a few at a time, or by `sweep`.
   * @default 2_592_000_000 (30 days)
   */
  historyRetentionMs?: number;
  /**
   * Replicas every put and remove must reach before it resolves, as for bans (see
   * `RedisBanStoreOptions.waitForReplicas`). Off by default.
   * @example { replicas: 1, timeoutMs: 1_000 }
   */
  waitForReplicas?: ReplicaWait;
}

/** KEYS: records, order, purge. ARGV: id, the entry, when it may be forgotten ('' never), nowMs, how many ended entries to sweep. */
const PUT = new RedisScript(
  'rampart-access-put',
  `${LUA_RECORDS}
local id = ARGV[1]
local json = redis.call('HGET', KEYS[1], id)
write(KEYS[1], KEYS[2], id, json and cjson.decode(json).updatedAtMs, cjson.decode(ARGV[2]))
if ARGV[3] == '' then redis.call('ZREM', KEYS[3], id) else redis.call('ZADD', KEYS[3], ARGV[3], id) end
sweep(KEYS[1], KEYS[2], KEYS[3], ARGV[4], tonumber(ARGV[5]), id)
return 1`,
);

/** KEYS: records, order, purge. ARGV: id, nowMs, when an entry removed now may be forgotten, how many ended entries to sweep. */
const REMOVE = new RedisScript(
  'rampart-access-remove',
  `${LUA_RECORDS}
local id, nowMs = ARGV[1], ARGV[2]
local json = redis.call('HGET', KEYS[1], id)
local entry = json and cjson.decode(json)
local removed = 0
if entry and not entry.removedAtMs then
  local previousUpdatedAtMs = entry.updatedAtMs
  entry.removedAtMs, entry.updatedAtMs = nowMs, nowMs
  write(KEYS[1], KEYS[2], id, previousUpdatedAtMs, entry)
  -- Kept for the retention after it ended: removed now, or expired earlier.
  redis.call('ZADD', KEYS[3], 'LT', ARGV[3], id)
  removed = 1
end
sweep(KEYS[1], KEYS[2], KEYS[3], nowMs, tonumber(ARGV[4]), id)
return removed`,
);

/**
 * Allow- and deny-list entries in Redis (or Redis Cluster), shared by every instance of an app, one
 * per (kind, CIDR) with id `<kind>:<cidr>`. Every key is in the hash tag `{access}`: a hash
 * `<prefix>{access}:records` (id → JSON), a lexical index `<prefix>{access}:order` (`updatedAtMs`,
 * then id) for `changedSince`, and a sorted set `<prefix>{access}:purge` (id → when an ended entry
 * may be forgotten). No key has a TTL. CIDRs are stored canonical (`10.0.0.1` is `10.0.0.1/32`); a
 * range with host bits set, such as `10.0.0.5/8`, is refused with a RangeError naming the network.
 *
 * @example
 * const accessList = new RedisAccessListStore(scriptClientOf(redis));
 */
export class RedisAccessListStore implements AccessListStore {
  private readonly set: RedisRecordSet;

  constructor(client: ScriptClient, options: RedisAccessListStoreOptions = {}) {
    this.set = new RedisRecordSet(client, 'access', 'RedisAccessListStore', options);
  }

  async put(entry: NewAccessListEntry, nowMs: number): Promise<AccessListEntry> {
    const { id, ...fields } = checkAccessListEntry(entry);
    checkTime(nowMs, 'nowMs');
    const stored: AccessListEntry = { ...fields, updatedAtMs: nowMs };
    const purgeAt = fields.expiresAtMs === undefined ? '' : String(fields.expiresAtMs + this.set.historyRetentionMs);
    await this.set.write(PUT, [id, encodeFields({ ...stored }), purgeAt, String(nowMs), SWEEP_PER_WRITE], {
      what: `the access-list entry ${id}`,
      wrote: () => true,
    });
    return stored;
  }

  async remove(kind: AccessListKind, cidr: string, nowMs: number): Promise<boolean> {
    const id = `${checkAccessKind(kind)}:${canonicalCidr(cidr)}`;
    checkTime(nowMs, 'nowMs');
    const args = [id, String(nowMs), String(nowMs + this.set.historyRetentionMs), SWEEP_PER_WRITE];
    const removed = await this.set.write(REMOVE, args, {
      what: `the removal of the access-list entry ${id}`,
      wrote: (reply) => reply === 1,
    });
    return removed === 1;
  }

  async list(kind?: AccessListKind): Promise<readonly AccessListEntry[]> {
    if (kind !== undefined) checkAccessKind(kind);
    const entries = (await this.set.all()).map(toEntry).filter((e) => e.removedAtMs === undefined && (kind === undefined || e.kind === kind));
    // By id (`<kind>:<cidr>`), as the other stores list them.
    const id = (e: AccessListEntry) => `${e.kind}:${e.cidr}`;
    return entries.sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  }

  async changedSince(sinceMs: number, limit: number): Promise<readonly AccessListEntry[]> {
    checkChangedSince(sinceMs, limit);
    return (await this.set.changedSince(sinceMs, limit)).map((entry) => toEntry(entry.json));
  }

  /**
   * Forgets every entry whose history retention is over at `nowMs` (writes do it a few at a time);
   * returns how many.
   */
  sweep(nowMs: number): Promise<number> {
    checkTime(nowMs, 'nowMs');
    return this.set.sweep(nowMs);
  }
}

function toEntry(json: string): AccessListEntry {
  const f = decodeFields(json);
  return {
    cidr: f['cidr'],
    kind: f['kind'] === 'allow' ? 'allow' : 'deny',
    ...(f['note'] === undefined ? {} : { note: f['note'] }),
    createdBy: f['createdBy'],
    createdAtMs: Number(f['createdAtMs']),
    ...optionalNum(f, 'expiresAtMs'),
    ...optionalNum(f, 'removedAtMs'),
    updatedAtMs: Number(f['updatedAtMs']),
  };
}
