/**
 * Checks of what callers hand to the ban stores (memory, Mongo and Redis alike): targets in canonical form,
 * new bans, write conditions and filters. See store-input.ts for why every value is checked.
 */
import { isBanActive, type Ban, type BanFilter, type BanKind, type BanSource, type BanTarget, type NewBan, type PutCondition } from './ban-store.interface.js';
import { BAN_KINDS, BAN_SOURCES, canonicalCidr, count, describe, finite, nonEmptyString, oneOf, optionalFinite, record, string } from './store-input.js';

/** The stable id of a ban target (`key:<key>` or `cidr:<canonical cidr>`) and the target in canonical form. */
export function checkBanTarget(value: unknown, path = 'target'): { id: string; target: BanTarget } {
  const target = record(value, path);
  const type = oneOf(target['type'], ['key', 'cidr'] as const, `${path}.type`);
  if (type === 'key') {
    const key = nonEmptyString(target['key'], `${path}.key`);
    return { id: `key:${key}`, target: { type, key } };
  }
  const cidr = canonicalCidr(target['cidr'], `${path}.cidr`);
  return { id: `cidr:${cidr}`, target: { type, cidr } };
}

export interface CheckedNewBan extends NewBan {
  readonly id: string;
}

/** A ban to put, with its target canonical and its id. */
export function checkNewBan(value: unknown): CheckedNewBan {
  const ban = record(value, 'ban');
  const { id, target } = checkBanTarget(ban['target'], 'ban.target');
  const kind = oneOf(ban['kind'], BAN_KINDS, 'ban.kind');
  const expiresAtMs = optionalFinite(ban['expiresAtMs'], 'ban.expiresAtMs');
  if (kind === 'temporary' && expiresAtMs === undefined) {
    throw new TypeError("ban.expiresAtMs is required for a temporary ban (epoch ms); use kind 'permanent' for a ban without end.");
  }
  if (kind === 'permanent' && expiresAtMs !== undefined) {
    throw new TypeError("ban.expiresAtMs must be absent for a permanent ban; use kind 'temporary' for a ban with an end.");
  }
  return {
    id,
    target,
    kind,
    reason: string(ban['reason'], 'ban.reason'),
    source: oneOf(ban['source'], BAN_SOURCES, 'ban.source'),
    createdBy: nonEmptyString(ban['createdBy'], 'ban.createdBy'),
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
    violationCount: count(ban['violationCount'], 'ban.violationCount'),
  };
}

/** The precondition of a conditional ban `put`: `expectedVersion` null, or an integer of 0 or more. */
export function checkPutCondition(value: unknown): PutCondition | undefined {
  if (value === undefined) return undefined;
  const condition = record(value, 'condition');
  const expected = condition['expectedVersion'];
  if (expected === null) return { expectedVersion: null };
  if (typeof expected !== 'number' || !Number.isSafeInteger(expected) || expected < 0) {
    throw new TypeError(`condition.expectedVersion must be null or an integer of 0 or more, got ${describe(expected)}.`);
  }
  return { expectedVersion: expected };
}

export interface CheckedBanFilter {
  readonly kind?: BanKind;
  readonly source?: BanSource;
  /** Ids a `target` filter may match: the key's, and the CIDR's when the text is one. */
  readonly ids?: readonly string[];
  readonly activeAtMs?: number;
}

/** A ban filter: every field optional, each checked for its type. */
export function checkBanFilter(value: unknown): CheckedBanFilter {
  const filter: Partial<Record<keyof BanFilter, unknown>> = record(value ?? {}, 'filter');
  const out: { -readonly [K in keyof CheckedBanFilter]: CheckedBanFilter[K] } = {};
  if (filter.kind !== undefined) out.kind = oneOf(filter.kind, BAN_KINDS, 'filter.kind');
  if (filter.source !== undefined) out.source = oneOf(filter.source, BAN_SOURCES, 'filter.source');
  if (filter.activeAtMs !== undefined) out.activeAtMs = finite(filter.activeAtMs, 'filter.activeAtMs');
  if (filter.target !== undefined) {
    const text = string(filter.target, 'filter.target');
    const ids = [`key:${text}`];
    const cidr = tryCanonicalCidr(text);
    if (cidr !== null) ids.push(`cidr:${cidr}`);
    out.ids = ids;
  }
  return out;
}

/** Whether `ban` passes a checked filter (stores that filter as they read: memory, Redis). */
export function banMatchesFilter(ban: Ban, f: CheckedBanFilter): boolean {
  if (f.kind !== undefined && ban.kind !== f.kind) return false;
  if (f.source !== undefined && ban.source !== f.source) return false;
  if (f.ids !== undefined && !f.ids.includes(ban.id)) return false;
  return f.activeAtMs === undefined || isBanActive(ban, f.activeAtMs);
}

function tryCanonicalCidr(text: string): string | null {
  try {
    return canonicalCidr(text);
  } catch {
    return null;
  }
}
