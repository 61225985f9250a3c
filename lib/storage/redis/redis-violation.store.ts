import type { Page, PageRequest } from '../ban-store.interface.js';
import {
  checkDurationOption,
  checkKey,
  checkPageRequest,
  checkTime,
  checkViolation,
  checkViolationFilter,
  decodeCursor,
  DEFAULT_RETENTION_MS,
  encodeCursor,
} from '../store-input.js';
import type { Violation, ViolationFilter, ViolationStore } from '../violation-store.interface.js';
import { checkPrefix, recordKey } from './redis-keys.js';
import { LUA_VIOLATIONS } from './redis-lua.js';
import { collectNewestFirst, decodeFields, encodeFields, SWEEP_PER_WRITE, type IndexBound } from './redis-record-set.js';
import { RedisScript, type ScriptClient } from './redis-script.js';

/** Options of `RedisViolationStore`. */
export interface RedisViolationStoreOptions {
  /**
   * The start of every key (`<prefix>{violations}:records`, `:timeline`, `:key:<client key>`...).
   * @default 'rampart:'
   */
  prefix?: string;
  /**
   * How long a violation is kept: recording one forgets a few of those older than this before it.
   * `purge` (called by Rampart on its ban sync timer) forgets the rest.
   * @default 2_592_000_000 (30 days)
   */
  retentionMs?: number;
}

/**
 * KEYS: sequence, records, timeline, the key's index. ARGV: the violation's JSON, its atMs, the time
 * before which violations are forgotten, the prefix of key indexes, how many at most.
 */
const RECORD = new RedisScript(
  'rampart-violation-record',
  `${LUA_VIOLATIONS}
local seq = string.format('%015d', redis.call('INCR', KEYS[1]))
local member = sortable(ARGV[2]) .. seq
redis.call('HSET', KEYS[2], seq, ARGV[1])
redis.call('ZADD', KEYS[3], 0, member)
redis.call('ZADD', KEYS[4], 0, member)
dropBefore(KEYS[2], KEYS[3], ARGV[4], ARGV[3], tonumber(ARGV[5]))
return 1`,
);

/** KEYS: records, timeline. ARGV: the time before which violations are forgotten, the prefix of key indexes, how many at most. */
const PURGE = new RedisScript('rampart-violation-purge', `${LUA_VIOLATIONS}\nreturn dropBefore(KEYS[1], KEYS[2], ARGV[2], ARGV[1], tonumber(ARGV[3]))`);

/** KEYS: records, timeline, the key's index. ARGV: how many at most. */
const DELETE_KEY = new RedisScript(
  'rampart-violation-delete-key',
  `local members = redis.call('ZRANGE', KEYS[3], 0, tonumber(ARGV[1]) - 1)
for _, member in ipairs(members) do
  redis.call('HDEL', KEYS[1], string.sub(member, 17))
  redis.call('ZREM', KEYS[2], member)
end
if #members > 0 then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, #members - 1) end
return #members`,
);

/** KEYS: the key's index. ARGV: sinceMs. */
const COUNT = new RedisScript('rampart-violation-count', `${LUA_VIOLATIONS}\nreturn redis.call('ZLEXCOUNT', KEYS[1], '[' .. sortable(ARGV[1]), '+')`);

/** Violations deleted per script by `purge` and `deleteByKey`, which run scripts until none is left. */
const DELETE_BATCH = 1_000;

const NOT_OUR_CURSOR = 'page.cursor is not a cursor this store returned: pass the nextCursor of the previous page unchanged, or omit it for the first page.';

/**
 * Violation history in Redis (or Redis Cluster), shared by every instance of an app. Every key is in
 * the hash tag `{violations}`: a counter `<prefix>{violations}:seq` numbers violations in order of
 * arrival, a hash `<prefix>{violations}:records` holds them (number → JSON), and two kinds of
 * lexical index order them by (atMs, number): `<prefix>{violations}:timeline` (all of them) and
 * `<prefix>{violations}:key:<client key>` (one client's, so that `count` is one O(log n) command).
 * No key has a TTL: old violations are forgotten by `purge` and, a few at a time, by `record`.
 *
 * @example
 * const violations = new RedisViolationStore(scriptClientOf(redis), { retentionMs: 7 * 86_400_000 });
 */
export class RedisViolationStore implements ViolationStore {
  private readonly retentionMs: number;
  private readonly seq: string;
  private readonly records: string;
  private readonly timeline: string;
  private readonly keyIndexPrefix: string;

  constructor(
    private readonly client: ScriptClient,
    options: RedisViolationStoreOptions = {},
  ) {
    const prefix = checkPrefix(options.prefix, 'RedisViolationStore: prefix');
    this.retentionMs = checkDurationOption(options.retentionMs, 'RedisViolationStore: retentionMs', DEFAULT_RETENTION_MS);
    this.seq = recordKey(prefix, 'violations', 'seq');
    this.records = recordKey(prefix, 'violations', 'records');
    this.timeline = recordKey(prefix, 'violations', 'timeline');
    this.keyIndexPrefix = recordKey(prefix, 'violations', 'key:');
  }

  async record(violation: Violation): Promise<void> {
    const v = checkViolation(violation);
    const keys = [this.seq, this.records, this.timeline, this.keyIndex(v.key)];
    await RECORD.run(this.client, keys, [encodeFields({ ...v }), String(v.atMs), String(v.atMs - this.retentionMs), this.keyIndexPrefix, SWEEP_PER_WRITE]);
  }

  async list(filter: ViolationFilter, page: PageRequest): Promise<Page<Violation>> {
    const f = checkViolationFilter(filter);
    const { limit, cursor } = checkPageRequest(page);
    const after = cursor === undefined ? undefined : decodeSeqCursor(cursor);
    // The tighter of the exclusive `toMs` and the cursor.
    let upper: IndexBound | undefined = f.toMs === undefined ? undefined : { ms: f.toMs, id: '', inclusive: false };
    if (after !== undefined && (upper === undefined || after.ms < upper.ms)) upper = { ...after, inclusive: false };
    const lower: IndexBound | undefined = f.fromMs === undefined ? undefined : { ms: f.fromMs, id: '', inclusive: true };
    const keys = { index: f.key === undefined ? this.timeline : this.keyIndex(f.key), records: this.records };
    const found = await collectNewestFirst(
      this.client,
      keys,
      { lower, upper },
      limit + 1,
      toViolation,
      (v) => v.atMs,
      f.rule === undefined ? undefined : (v) => v.rule === f.rule,
    );
    const items = found.slice(0, limit);
    const last = items[items.length - 1];
    return found.length > limit && last !== undefined
      ? { items: items.map(({ item }) => item), nextCursor: encodeCursor(last.ms, last.id) }
      : { items: items.map(({ item }) => item) };
  }

  async count(key: string, sinceMs: number): Promise<number> {
    const k = checkKey(key);
    checkTime(sinceMs, 'sinceMs');
    return (await COUNT.run(this.client, [this.keyIndex(k)], [String(sinceMs)])) as number;
  }

  async deleteByKey(key: string): Promise<number> {
    const k = checkKey(key);
    return this.repeat(() => DELETE_KEY.run(this.client, [this.records, this.timeline, this.keyIndex(k)], [DELETE_BATCH]));
  }

  async purge(beforeMs: number): Promise<number> {
    checkTime(beforeMs, 'beforeMs');
    return this.repeat(() => PURGE.run(this.client, [this.records, this.timeline], [String(beforeMs), this.keyIndexPrefix, DELETE_BATCH]));
  }

  private keyIndex(key: string): string {
    return `${this.keyIndexPrefix}${key}`;
  }

  /** Runs a deleting script until it deletes fewer than a batch; the total deleted. */
  private async repeat(run: () => Promise<unknown>): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = (await run()) as number;
      total += deleted;
      if (deleted < DELETE_BATCH) return total;
    }
  }
}

function toViolation(json: string): Violation {
  const f = decodeFields(json);
  return {
    key: f['key'],
    rule: f['rule'],
    route: f['route'],
    method: f['method'],
    hits: Number(f['hits']),
    limit: Number(f['limit']),
    atMs: Number(f['atMs']),
  };
}

/** A cursor made by `list`: the id is the violation's number, 15 digits. */
function decodeSeqCursor(cursor: string): { ms: number; id: string } {
  const decoded = decodeCursor(cursor);
  if (!/^\d{15}$/.test(decoded.id)) throw new TypeError(NOT_OUR_CURSOR);
  return decoded;
}
