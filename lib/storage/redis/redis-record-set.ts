import { checkDurationOption, DEFAULT_RETENTION_MS } from '../store-input.js';
import { LUA_RANGE, LUA_RECORDS } from './redis-lua.js';
import { checkPrefix, recordKey } from './redis-keys.js';
import { checkReplicaWait, writeWithReplicas } from './redis-replication.js';
import { RedisScript, type ReplicaWait, type ScriptClient } from './redis-script.js';

/** The kinds of record kept by a `RedisRecordSet`. */
export type RecordKind = 'bans' | 'access';

/** The options a store of records shares (see `RedisBanStoreOptions`). */
export interface RecordSetOptions {
  readonly prefix?: string;
  readonly historyRetentionMs?: number;
  readonly waitForReplicas?: ReplicaWait;
}

/** A record as Lua sees it: every value a string. */
export type StoredFields = Readonly<Record<string, string>>;

/** Records forgotten by each write once their retention is over: amortised cleanup, no timer. */
export const SWEEP_PER_WRITE = 8;
/** Records forgotten per script by `sweep`, which runs scripts until none is left. */
const SWEEP_BATCH = 1_000;

/** Lone UTF-16 surrogates: sent to Redis as U+FFFD anyway, and refused by cjson as `\ud800` escapes. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A record as stored: JSON whose every value is a string, numbers written by `String()` (the
 * shortest text that reads back as the same number). Lua's cjson then reads, edits and writes it
 * without rounding anything. Absent fields are left out.
 */
export function encodeFields(fields: Readonly<Record<string, string | number | undefined>>): string {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[name] = typeof value === 'number' ? String(value) : value.replace(LONE_SURROGATE, '\uFFFD');
  }
  return JSON.stringify(out);
}

export function decodeFields(json: string): StoredFields {
  return JSON.parse(json) as StoredFields;
}

/** A stored number field that may be absent. */
export function optionalNum(fields: StoredFields, name: string): Record<string, number> {
  return fields[name] === undefined ? {} : { [name]: Number(fields[name]) };
}

/** A position in a lexical index: a time and an id (`''` for the first position at that time). */
export interface IndexBound {
  readonly ms: number;
  readonly id: string;
  readonly inclusive: boolean;
}

export interface IndexRange {
  readonly lower?: IndexBound;
  readonly upper?: IndexBound;
  /** Newest first. */
  readonly descending: boolean;
  /** Most index entries read. */
  readonly count: number;
}

/** One entry of an index read, with its record. */
export interface IndexedRecord {
  readonly id: string;
  readonly json: string;
}

const RANGE = new RedisScript('rampart-record-range', LUA_RANGE);
const GET = new RedisScript('rampart-record-get', `return redis.call('HMGET', KEYS[1], unpack(ARGV))`);
const ALL = new RedisScript('rampart-record-all', `return redis.call('HVALS', KEYS[1])`);
const SWEEP = new RedisScript(
  'rampart-record-sweep',
  `${LUA_RECORDS}
return sweep(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]), '')`,
);

function boundArgs(bound: IndexBound | undefined): string[] {
  return bound === undefined ? ['', '', ''] : [bound.inclusive ? '[' : '(', String(bound.ms), bound.id];
}

/** Reads the entries of a lexical index `index` in order, with their records from the hash `records`. */
export async function readIndex(client: ScriptClient, index: string, records: string, range: IndexRange): Promise<IndexedRecord[]> {
  const args = [range.descending ? '1' : '0', String(range.count), ...boundArgs(range.lower), ...boundArgs(range.upper)];
  const reply = (await RANGE.run(client, [index, records], args)) as string[];
  const out: IndexedRecord[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i + 1] !== '') out.push({ id: reply[i]!, json: reply[i + 1]! });
  return out;
}

/** A record read from an index, with its position there. */
export interface Positioned<T> {
  readonly item: T;
  readonly ms: number;
  readonly id: string;
}

/** Index entries read per script when a filter may skip many. */
const FILTERED_BATCH = 500;

/**
 * Reads the index `index` newest first, between `range.lower` and `range.upper`, keeping what
 * `accept` takes (everything when absent), until `wanted` records are kept or the index ends. With
 * a filter, batches of several hundred entries are read per script.
 */
export async function collectNewestFirst<T>(
  client: ScriptClient,
  keys: { readonly index: string; readonly records: string },
  range: { readonly lower?: IndexBound; readonly upper?: IndexBound },
  wanted: number,
  decode: (json: string) => T,
  msOf: (item: T) => number,
  accept?: (item: T) => boolean,
): Promise<Positioned<T>[]> {
  const count = accept === undefined ? wanted : Math.max(wanted, FILTERED_BATCH);
  let upper = range.upper;
  const kept: Positioned<T>[] = [];
  for (;;) {
    const entries = await readIndex(client, keys.index, keys.records, { lower: range.lower, upper, descending: true, count });
    for (const entry of entries) {
      const item = decode(entry.json);
      const ms = msOf(item);
      upper = { ms, id: entry.id, inclusive: false };
      if ((accept === undefined || accept(item)) && kept.push({ item, ms, id: entry.id }) === wanted) return kept;
    }
    if (entries.length < count) return kept;
  }
}

/**
 * One kind of record in Redis, in the hash tag `{<kind>}` (one hash slot):
 * `<prefix>{<kind>}:records` (hash id → JSON), `<prefix>{<kind>}:order` (lexical index by
 * `updatedAtMs`, then id) and `<prefix>{<kind>}:purge` (sorted set id → when an ended record may be
 * forgotten). The stores write them with scripts of their own built on `LUA_RECORDS`.
 */
export class RedisRecordSet {
  readonly records: string;
  readonly order: string;
  readonly purge: string;
  /** How long an ended record is kept as history. */
  readonly historyRetentionMs: number;
  /** Replicas every write waits for, when asked (see `writeWithReplicas`). */
  readonly waitForReplicas: ReplicaWait | undefined;

  /** `store` names the store in the errors of its options (`RedisBanStore`). */
  constructor(
    private readonly client: ScriptClient,
    kind: RecordKind,
    store: string,
    options: RecordSetOptions,
  ) {
    const prefix = checkPrefix(options.prefix, `${store}: prefix`);
    this.historyRetentionMs = checkDurationOption(options.historyRetentionMs, `${store}: historyRetentionMs`, DEFAULT_RETENTION_MS);
    this.waitForReplicas = checkReplicaWait(options.waitForReplicas, `${store}: waitForReplicas`);
    if (this.waitForReplicas && client.evalThenWait === undefined) {
      throw new TypeError(`${store}: waitForReplicas needs an ioredis client or Cluster (to send WAIT on the connection that wrote, in one pipeline).`);
    }
    this.records = recordKey(prefix, kind, 'records');
    this.order = recordKey(prefix, kind, 'order');
    this.purge = recordKey(prefix, kind, 'purge');
  }

  /** Runs a write script on the set's keys, waiting for replicas when `waitForReplicas` asks (see `writeWithReplicas`). */
  write(script: RedisScript, args: readonly (string | number)[], written: { readonly what: string; wrote(reply: unknown): boolean }): Promise<unknown> {
    return writeWithReplicas(script, this.client, this.keys, args, this.waitForReplicas, written);
  }

  /** `[records, order, purge]`: the KEYS of the stores' write scripts. */
  get keys(): [string, string, string] {
    return [this.records, this.order, this.purge];
  }

  /** The JSON of each id, `null` where there is none. */
  async get(ids: readonly string[]): Promise<(string | null)[]> {
    if (ids.length === 0) return [];
    return (await GET.run(this.client, [this.records], ids)) as (string | null)[];
  }

  /** Every record's JSON, in no particular order. */
  async all(): Promise<string[]> {
    return (await ALL.run(this.client, [this.records], [])) as string[];
  }

  /** Reads the index by `updatedAtMs`, then id. */
  range(range: IndexRange): Promise<IndexedRecord[]> {
    return readIndex(this.client, this.order, this.records, range);
  }

  /** Records changed at or after `sinceMs`, oldest first. */
  changedSince(sinceMs: number, limit: number): Promise<IndexedRecord[]> {
    return this.range({ lower: { ms: sinceMs, id: '', inclusive: true }, descending: false, count: limit });
  }

  /** Forgets every record whose retention is over at `nowMs`; returns how many. */
  async sweep(nowMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const swept = (await SWEEP.run(this.client, this.keys, [String(nowMs), SWEEP_BATCH])) as number;
      total += swept;
      if (swept < SWEEP_BATCH) return total;
    }
  }
}
