/**
 * Checks of what callers hand to the ban, violation and access-list stores, shared by the memory and
 * the Mongo implementations so that both accept and refuse exactly the same inputs.
 *
 * Every value that reaches a query is checked here with `typeof` first: a filter field that should be
 * a string but is an object (`{ $gt: '' }`) is refused with a TypeError instead of being passed on,
 * and a string that looks like an operator is just a string.
 */
import ipaddr from 'ipaddr.js';

import { days } from '../core/duration.js';
import { formatAddress } from '../core/ip/client-address.js';
import { parseIpRange } from '../core/ip/ip-range.js';
import type { AccessListEntry, AccessListKind } from './access-list-store.interface.js';
import type { BanKind, BanSource, PageRequest } from './ban-store.interface.js';
import type { Violation, ViolationFilter } from './violation-store.interface.js';

/** How long history (violations, lifted or expired bans, removed entries) is kept by default: 30 days. */
export const DEFAULT_RETENTION_MS = days(30);
/** Largest `limit` of one page. */
export const MAX_PAGE_LIMIT = 500;
/** Largest `limit` of one `changedSince` call. */
export const MAX_CHANGES_LIMIT = 10_000;

export const BAN_KINDS: readonly BanKind[] = ['temporary', 'permanent'];
export const BAN_SOURCES: readonly BanSource[] = ['auto', 'admin', 'ddos'];
const ACCESS_KINDS: readonly AccessListKind[] = ['allow', 'deny'];

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) throw new TypeError(`${path} must be an object, got ${describe(value)}.`);
  return value;
}

export function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new TypeError(`${path} must be a string, got ${describe(value)}.`);
  return value;
}

export function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${path} must be a non-empty string, got ${describe(value)}.`);
  }
  return value;
}

export function optionalString(value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : string(value, path);
}

export function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${path} must be a finite number (epoch ms), got ${describe(value)}.`);
  }
  return value;
}

export function optionalFinite(value: unknown, path: string): number | undefined {
  return value === undefined ? undefined : finite(value, path);
}

export function count(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`${path} must be an integer of 0 or more, got ${describe(value)}.`);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(`${path} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}.`);
  }
  return value as T;
}

/** A time at which `nowMs`-style arguments are taken: a finite number of epoch ms. */
export function checkTime(value: unknown, path: string): number {
  return finite(value, path);
}

/** A positive duration option (`retentionMs`, `intervalMs`...). */
export function checkDurationOption(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${path} must be a positive integer (milliseconds), got ${describe(value)}.`);
  }
  return value;
}

/** A positive integer option (`maxRecords`...). */
export function checkSizeOption(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${path} must be a positive integer, got ${describe(value)}.`);
  }
  return value;
}

/**
 * The canonical text of an IPv4 or IPv6 network: `10.0.0.1` becomes `10.0.0.1/32`, `2001:DB8::1`
 * becomes `2001:db8::1/128`, an IPv4-mapped range (`::ffff:10.0.0.0/104`) becomes IPv4 (`10.0.0.0/8`).
 *
 * A range whose address has host bits set (`10.0.0.5/8`) is refused rather than silently widened to
 * `10.0.0.0/8`: an operator who typed it may equally have meant the single address, and guessing
 * wrong would allow or ban a whole network.
 *
 * @throws TypeError when `value` is not a string holding an address or `address/prefix`;
 *   RangeError for a prefix out of range or host bits set.
 */
export function canonicalCidr(value: unknown, path = 'cidr'): string {
  if (typeof value !== 'string') throw new TypeError(`${path} must be a string, got ${describe(value)}.`);
  const parsed = parseIpRange(value.trim());
  if (!('range' in parsed)) {
    switch (parsed.problem) {
      case 'address':
        throw new TypeError(`${path} must be an IP address or a CIDR range such as 203.0.113.0/24 or 2001:db8::/48, got ${describe(value)}.`);
      case 'prefix-syntax':
        throw new TypeError(`${path} has no valid prefix length after '/', got ${describe(value)}.`);
      case 'mapped-prefix':
        throw new RangeError(`${path}: an IPv4-mapped range needs a prefix of 96 to 128, got ${describe(value)}.`);
      default:
        throw new RangeError(`${path}: the prefix length must be 0 to ${parsed.max}, got ${describe(value)}.`);
    }
  }
  const [address, prefix] = parsed.range;
  const max = address.kind() === 'ipv4' ? 32 : 128;
  const bytes = address.toByteArray();
  for (let bit = prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  const network = formatAddress(ipaddr.fromByteArray(bytes));
  const written = formatAddress(address);
  if (network !== written) {
    throw new RangeError(`${path} ${describe(value)} has host bits set: write the network ${network}/${prefix}, or ${written}/${max} for the single address.`);
  }
  return `${written}/${prefix}`;
}

/** A page request: `limit` an integer from 1 to 500, `cursor` absent or a string. */
export function checkPageRequest(value: unknown): { limit: number; cursor?: string } {
  const page: Partial<Record<keyof PageRequest, unknown>> = record(value, 'page');
  const limit = page.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new RangeError(`page.limit must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${describe(limit)}.`);
  }
  const cursor = optionalString(page.cursor, 'page.cursor');
  return cursor === undefined ? { limit } : { limit, cursor };
}

/** Arguments of `changedSince`: a time, and a limit from 1 to 10 000. */
export function checkChangedSince(sinceMs: unknown, limit: unknown): void {
  finite(sinceMs, 'sinceMs');
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_CHANGES_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_CHANGES_LIMIT}, got ${describe(limit)}.`);
  }
}

/**
 * An opaque page cursor: the sort key of the last item returned (a time and a tie-breaking id),
 * base64url-encoded JSON.
 */
export function encodeCursor(ms: number, id: string): string {
  return Buffer.from(JSON.stringify([ms, id]), 'utf8').toString('base64url');
}

/** Reads a cursor made by `encodeCursor`. @throws TypeError for anything else. */
export function decodeCursor(cursor: string): { ms: number; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'number' || !Number.isFinite(parsed[0]) || typeof parsed[1] !== 'string') {
    throw new TypeError('page.cursor is not a cursor this store returned: pass the nextCursor of the previous page unchanged, or omit it for the first page.');
  }
  return { ms: parsed[0], id: parsed[1] };
}

/** A violation to record, every field checked and nothing else kept. */
export function checkViolation(value: unknown): Violation {
  const v = record(value, 'violation');
  return {
    key: nonEmptyString(v['key'], 'violation.key'),
    rule: string(v['rule'], 'violation.rule'),
    route: string(v['route'], 'violation.route'),
    method: string(v['method'], 'violation.method'),
    hits: finite(v['hits'], 'violation.hits'),
    limit: finite(v['limit'], 'violation.limit'),
    atMs: finite(v['atMs'], 'violation.atMs'),
  };
}

/** A violation filter: every field optional, each checked for its type. */
export function checkViolationFilter(value: unknown): ViolationFilter {
  const filter: Partial<Record<keyof ViolationFilter, unknown>> = record(value ?? {}, 'filter');
  const out: { -readonly [K in keyof ViolationFilter]: ViolationFilter[K] } = {};
  if (filter.key !== undefined) out.key = string(filter.key, 'filter.key');
  if (filter.rule !== undefined) out.rule = string(filter.rule, 'filter.rule');
  if (filter.fromMs !== undefined) out.fromMs = finite(filter.fromMs, 'filter.fromMs');
  if (filter.toMs !== undefined) out.toMs = finite(filter.toMs, 'filter.toMs');
  return out;
}

/** A violation key argument (`count`, `deleteByKey`). */
export function checkKey(value: unknown): string {
  return string(value, 'key');
}

export function checkAccessKind(value: unknown, path = 'kind'): AccessListKind {
  return oneOf(value, ACCESS_KINDS, path);
}

export type NewAccessListEntry = Omit<AccessListEntry, 'updatedAtMs' | 'removedAtMs'>;

/** An access-list entry to put, its CIDR canonical (see `canonicalCidr`), and its id `<kind>:<cidr>`. */
export function checkAccessListEntry(value: unknown): NewAccessListEntry & { readonly id: string } {
  const entry = record(value, 'entry');
  const kind = checkAccessKind(entry['kind'], 'entry.kind');
  const cidr = canonicalCidr(entry['cidr'], 'entry.cidr');
  const note = optionalString(entry['note'], 'entry.note');
  const expiresAtMs = optionalFinite(entry['expiresAtMs'], 'entry.expiresAtMs');
  return {
    id: `${kind}:${cidr}`,
    cidr,
    kind,
    ...(note === undefined ? {} : { note }),
    createdBy: nonEmptyString(entry['createdBy'], 'entry.createdBy'),
    createdAtMs: finite(entry['createdAtMs'], 'entry.createdAtMs'),
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
  };
}

/** A lease key (`LeaseStore` methods): a non-empty string; `store` names the store in the error. */
export function checkLeaseKey(key: unknown, store: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError(`${store}: a lease key must be a non-empty string.`);
}

/**
 * What `StatsStore.put` is handed: a summary with an instance name and buckets, and an expiry time.
 * Returns the instance name (the record's id).
 */
export function checkStatsPut(summary: unknown, expiresAtMs: unknown, store: string): string {
  const s = record(summary, `${store}: summary`);
  const instance = nonEmptyString(s['instance'], `${store}: summary.instance`);
  checkTime(s['atMs'], `${store}: summary.atMs`);
  if (!Array.isArray(s['buckets'])) throw new TypeError(`${store}: summary.buckets must be an array, got ${describe(s['buckets'])}.`);
  checkTime(expiresAtMs, `${store}: expiresAtMs`);
  return instance;
}
