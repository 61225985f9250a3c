import {
  isBanActive,
  type Ban,
  type BanFilter,
  type BanStore,
  type BanTarget,
  type NewBan,
  type Page,
  type PageRequest,
  type PutCondition,
} from '../ban-store.interface.js';
import { banMatchesFilter, checkBanFilter, checkBanTarget, checkNewBan, checkPutCondition, type CheckedBanFilter } from '../ban-input.js';
import { checkChangedSince, checkPageRequest, checkSizeOption, checkTime, decodeCursor, encodeCursor } from '../store-input.js';
import { LUA_RECORDS } from './redis-lua.js';
import { collectNewestFirst, decodeFields, encodeFields, optionalNum, RedisRecordSet, SWEEP_PER_WRITE, type IndexBound } from './redis-record-set.js';
import { RedisScript, type ReplicaWait, type ScriptClient } from './redis-script.js';

/** Options of `RedisBanStore`. */
export interface RedisBanStoreOptions {
  /**
   * The start of every key (`<prefix>{bans}:records`, `:order`, `:purge`).
   * @default 'rampart:'
   */
  prefix?: string;
  /**
   * How long a lifted or expired ban is kept as history (and its `blockCount` remembered) after it
   * ended. Such records are forgotten by later writes, a few at a time, or by `sweep`.
   * @default 2_592_000_000 (30 days)
   */
  historyRetentionMs?: number;
  /**
   * Replicas every ban and lift must reach before `put` and `lift` resolve (`WAIT` after the write,
   * on the connection that wrote it; ioredis clients only). Redis replicates asynchronously: without
   * it, a ban written just before its master dies can be missing on the replica that takes over.
   * Fewer replicas than asked within `timeoutMs` reject with a RedisReplicationError (the write is
   * made, and in force on the master). Off by default: with no replica, every write would wait
   * `timeoutMs` and fail.
   * @example { replicas: 1, timeoutMs: 1_000 }
   */
  waitForReplicas?: ReplicaWait;
}

/**
 * KEYS: records, order, purge. ARGV: id, the new record (JSON without blockCount and version), the
 * condition ('' none, 'none' no versioned record, else the version), 1 for a temporary ban,
 * when it may be forgotten ('' never), how many ended records to sweep.
 */
const PUT = new RedisScript(
  'rampart-ban-put',
  `${LUA_RECORDS}
local id, condition = ARGV[1], ARGV[3]
local json = redis.call('HGET', KEYS[1], id)
local previous = json and cjson.decode(json)
if condition == 'none' and previous and previous.version then return false end
if condition ~= '' and condition ~= 'none' and not (previous and previous.version == condition) then return false end
local ban = cjson.decode(ARGV[2])
ban.blockCount = string.format('%d', (previous and tonumber(previous.blockCount) or 0) + tonumber(ARGV[4]))
ban.version = increment(previous and previous.version)
local stored = write(KEYS[1], KEYS[2], id, previous and previous.updatedAtMs, ban)
if ARGV[5] == '' then redis.call('ZREM', KEYS[3], id) else redis.call('ZADD', KEYS[3], ARGV[5], id) end
sweep(KEYS[1], KEYS[2], KEYS[3], ban.updatedAtMs, tonumber(ARGV[6]), id)
return stored`,
);

/**
 * KEYS: records, order, purge. ARGV: id, by, nowMs, '1' to forget the blocks, when a ban lifted now
 * may be forgotten, how many ended records to sweep.
 */
const LIFT = new RedisScript(
  'rampart-ban-lift',
  `${LUA_RECORDS}
local id, nowMs = ARGV[1], ARGV[3]
local json = redis.call('HGET', KEYS[1], id)
if json then
  local ban = cjson.decode(json)
  if ban.liftedAtMs and ARGV[4] ~= '1' then return json end
  local previousUpdatedAtMs = ban.updatedAtMs
  if not ban.liftedAtMs then
    ban.liftedAtMs, ban.liftedBy = nowMs, ARGV[2]
    -- Kept as history for the retention after the later of its expiry and its lift.
    redis.call('ZADD', KEYS[3], 'GT', ARGV[5], id)
  end
  if ARGV[4] == '1' then ban.blockCount = '0' end
  ban.updatedAtMs, ban.version = nowMs, increment(ban.version)
  json = write(KEYS[1], KEYS[2], id, previousUpdatedAtMs, ban)
end
sweep(KEYS[1], KEYS[2], KEYS[3], nowMs, tonumber(ARGV[6]), id)
return json`,
);

const REMOVE = new RedisScript('rampart-ban-remove', `${LUA_RECORDS}\nreturn forget(KEYS[1], KEYS[2], KEYS[3], ARGV[1])`);

/** Fewest and most index entries read per script by `streamActive`. */
const STREAM_SCAN_MIN = 500;
const STREAM_SCAN_MAX = 5_000;

/**
 * Bans in Redis (or Redis Cluster), shared by every instance of an app. Every key is in the hash
 * tag `{bans}`: a hash `<prefix>{bans}:records` (ban id → JSON), a lexical index
 * `<prefix>{bans}:order` (`updatedAtMs`, then id: `changedSince`, `list` and `streamActive` read
 * it) and a sorted set `<prefix>{bans}:purge` (id → when an ended ban may be forgotten). Every
 * write is one script, so a conditional put is an atomic compare-and-set on `version`. Times come
 * from the caller's `nowMs`, never from the server, and no key has a TTL.
 *
 * @example
 * const bans = new RedisBanStore(scriptClientOf(redis), { prefix: 'myapp:' });
 */
export class RedisBanStore implements BanStore {
  private readonly set: RedisRecordSet;

  constructor(
    private readonly client: ScriptClient,
    options: RedisBanStoreOptions = {},
  ) {
    this.set = new RedisRecordSet(client, 'bans', 'RedisBanStore', options);
  }

  put(ban: NewBan, nowMs: number): Promise<Ban>;
  put(ban: NewBan, nowMs: number, condition: PutCondition): Promise<Ban | null>;
  async put(ban: NewBan, nowMs: number, condition?: PutCondition): Promise<Ban | null> {
    const checked = checkNewBan(ban);
    checkTime(nowMs, 'nowMs');
    const expected = checkPutCondition(condition);
    const { target } = checked;
    const record = encodeFields({
      targetType: target.type,
      target: target.type === 'key' ? target.key : target.cidr,
      kind: checked.kind,
      reason: checked.reason,
      source: checked.source,
      createdBy: checked.createdBy,
      createdAtMs: nowMs,
      expiresAtMs: checked.expiresAtMs,
      violationCount: checked.violationCount,
      updatedAtMs: nowMs,
    });
    const temporary = checked.kind === 'temporary';
    const purgeAt = temporary ? String(checked.expiresAtMs! + this.set.historyRetentionMs) : '';
    const when = expected === undefined ? '' : expected.expectedVersion === null ? 'none' : String(expected.expectedVersion);
    const json = await this.write(PUT, [checked.id, record, when, temporary ? 1 : 0, purgeAt, SWEEP_PER_WRITE], `the ban of ${checked.id}`);
    return json === null ? null : toBan(json as string);
  }

  async lift(target: BanTarget, by: string, nowMs: number, options: { forgetBlocks?: boolean } = {}): Promise<Ban | null> {
    const { id } = checkBanTarget(target);
    if (typeof by !== 'string' || by.length === 0) throw new TypeError(`by must be a non-empty string (who lifts the ban).`);
    checkTime(nowMs, 'nowMs');
    const args = [id, by, String(nowMs), options.forgetBlocks ? '1' : '0', String(nowMs + this.set.historyRetentionMs), SWEEP_PER_WRITE];
    const json = await this.write(LIFT, args, `the lift of the ban of ${id}`);
    return json === null ? null : toBan(json as string);
  }

  async get(target: BanTarget): Promise<Ban | null> {
    const { id } = checkBanTarget(target);
    const [json] = await this.set.get([id]);
    return json == null ? null : toBan(json);
  }

  async list(filter: BanFilter, page: PageRequest): Promise<Page<Ban>> {
    const f = checkBanFilter(filter);
    const { limit, cursor } = checkPageRequest(page);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const matches = f.ids === undefined ? await this.scan(f, limit + 1, after) : await this.byIds(f, f.ids, after);
    const items = matches.slice(0, limit);
    const last = items[items.length - 1];
    return matches.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(last.updatedAtMs, last.id) } : { items };
  }

  async changedSince(sinceMs: number, limit: number): Promise<readonly Ban[]> {
    checkChangedSince(sinceMs, limit);
    return (await this.set.changedSince(sinceMs, limit)).map((entry) => toBan(entry.json));
  }

  /** Reads the index from the oldest change on, a few thousand entries per script, keeping the bans in force. */
  async *streamActive(nowMs: number, batchSize: number): AsyncIterable<readonly Ban[]> {
    checkTime(nowMs, 'nowMs');
    checkSizeOption(batchSize, 'batchSize', 1);
    const count = Math.min(Math.max(batchSize, STREAM_SCAN_MIN), STREAM_SCAN_MAX);
    let lower: IndexBound | undefined;
    let batch: Ban[] = [];
    for (;;) {
      const entries = await this.set.range({ lower, descending: false, count });
      for (const { json } of entries) {
        const ban = toBan(json);
        lower = { ms: ban.updatedAtMs, id: ban.id, inclusive: false };
        if (!isBanActive(ban, nowMs)) continue;
        batch.push(ban);
        if (batch.length === batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (entries.length < count) break;
    }
    if (batch.length > 0) yield batch;
  }

  /** Runs a script that writes a record (it answers null when it wrote nothing), waiting for replicas when asked. */
  private write(script: RedisScript, args: readonly (string | number)[], what: string): Promise<unknown> {
    return this.set.write(script, args, { what, wrote: (reply) => reply !== null });
  }

  async remove(target: BanTarget): Promise<boolean> {
    const { id } = checkBanTarget(target);
    return (await REMOVE.run(this.client, this.set.keys, [id])) === 1;
  }

  /**
   * Forgets every ban whose history retention is over at `nowMs` (writes do it a few at a time);
   * returns how many.
   */
  sweep(nowMs: number): Promise<number> {
    checkTime(nowMs, 'nowMs');
    return this.set.sweep(nowMs);
  }

  /** Up to `wanted` bans matching `f` (no target), newest change first, after the cursor. */
  private async scan(f: CheckedBanFilter, wanted: number, after: { ms: number; id: string } | undefined): Promise<Ban[]> {
    const filtered = f.kind !== undefined || f.source !== undefined || f.activeAtMs !== undefined;
    const upper = after && { ...after, inclusive: false };
    const keys = { index: this.set.order, records: this.set.records };
    const found = await collectNewestFirst(
      this.client,
      keys,
      { upper },
      wanted,
      toBan,
      (ban) => ban.updatedAtMs,
      filtered ? (ban) => banMatchesFilter(ban, f) : undefined,
    );
    return found.map(({ item }) => item);
  }

  /** The bans of a `target` filter (at most two ids), in list order. */
  private async byIds(f: CheckedBanFilter, ids: readonly string[], after: { ms: number; id: string } | undefined): Promise<Ban[]> {
    const bans = (await this.set.get(ids)).filter((json): json is string => json != null).map(toBan);
    return bans
      .filter((ban) => banMatchesFilter(ban, f) && (after === undefined || ban.updatedAtMs < after.ms || (ban.updatedAtMs === after.ms && ban.id < after.id)))
      .sort((a, b) => b.updatedAtMs - a.updatedAtMs || (a.id < b.id ? 1 : -1));
  }
}

function toBan(json: string): Ban {
  const fields = decodeFields(json);
  const type = fields['targetType'] === 'cidr' ? 'cidr' : 'key';
  const target = fields['target'];
  return {
    id: `${type}:${target}`,
    target: type === 'cidr' ? { type, cidr: target } : { type, key: target },
    kind: fields['kind'] === 'permanent' ? 'permanent' : 'temporary',
    reason: fields['reason'],
    source: fields['source'] === 'admin' || fields['source'] === 'ddos' ? fields['source'] : 'auto',
    createdBy: fields['createdBy'],
    createdAtMs: Number(fields['createdAtMs']),
    ...optionalNum(fields, 'expiresAtMs'),
    violationCount: Number(fields['violationCount']),
    blockCount: Number(fields['blockCount']),
    ...optionalNum(fields, 'liftedAtMs'),
    ...(fields['liftedBy'] === undefined ? {} : { liftedBy: fields['liftedBy'] }),
    updatedAtMs: Number(fields['updatedAtMs']),
    ...optionalNum(fields, 'version'),
  };
}
