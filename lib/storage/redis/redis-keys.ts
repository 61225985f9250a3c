import { describe } from '../store-input.js';

/**
 * Where each Redis store keeps its data: every key starts with the storage's prefix (`rampart:` by
 * default). Each script touches keys of one hash slot only, so that it runs on a Redis Cluster:
 *
 * - counters: one key per store key, `<prefix>rl:{<key>}`, the store key its own hash tag;
 * - adaptive states: one key per store key, `<prefix>ad:{<key>}`, likewise;
 * - leases: `<prefix>{leases}:…` (one slot: renewing an instance's leases is one script);
 * - bans: `<prefix>{bans}:…`, violations: `<prefix>{violations}:…`, allow/deny lists:
 *   `<prefix>{access}:…`, statistics summaries: `<prefix>{stats}:…`, each kind of record in one slot
 *   of its own.
 */
export interface RedisKeyspace {
  /** The prefix of every key. */
  readonly prefix: string;
}

/** A prefix is any non-empty string; `rampart:` by default. */
export const DEFAULT_REDIS_PREFIX = 'rampart:';

/** The counters of one store key (rule and client). */
export function counterKey(prefix: string, key: string): string {
  return `${prefix}rl:{${key}}`;
}

/** The adaptive state of one store key (rule and client). */
export function adaptiveKey(prefix: string, key: string): string {
  return `${prefix}ad:{${key}}`;
}

/** How long a key outlives the expiry of its data, as a Redis TTL (see `keyTtlMs`). */
const KEY_TTL_MARGIN_MS = 3_600_000;

/**
 * The Redis TTL of a key whose data, written at `fromMs` by the app's clock, expires at
 * `expiresAtMs`: until then and an hour more. Readers tell expired data by comparing its expiry with
 * their `nowMs`, never by the TTL: it only makes the keys of a fleet that stopped altogether go away.
 */
export function keyTtlMs(fromMs: number, expiresAtMs: number): number {
  return Math.ceil(Math.max(expiresAtMs - fromMs, 0)) + KEY_TTL_MARGIN_MS;
}

/** The keys of one kind of record share the hash tag `{<kind>}`: `<prefix>{<kind>}:<name>`. */
export function recordKey(prefix: string, kind: 'leases' | 'bans' | 'violations' | 'access' | 'stats', name: string): string {
  return `${prefix}{${kind}}:${name}`;
}

/** Checks a `prefix` option: a non-empty string without braces, `rampart:` when absent. */
export function checkPrefix(value: unknown, path: string): string {
  if (value === undefined) return DEFAULT_REDIS_PREFIX;
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${path} must be a non-empty string, got ${describe(value)}.`);
  // Braces would make a hash tag of the prefix: every counter in one slot, or records apart from their indexes.
  if (/[{}]/.test(value)) throw new TypeError(`${path} must not contain { or } (Rampart sets the hash tags of its keys itself), got ${describe(value)}.`);
  return value;
}
