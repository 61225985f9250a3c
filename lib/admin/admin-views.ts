import type { AccessListEntry } from '../storage/access-list-store.interface.js';
import { isBanActive, type Ban } from '../storage/ban-store.interface.js';
import type { Violation } from '../storage/violation-store.interface.js';
import type { AdminAccessEntryView, AdminBanView, AdminViolationView } from './dto/views.dto.js';

/** Store records to the admin API's JSON: epoch ms become ISO 8601 strings. */

const iso = (ms: number) => new Date(ms).toISOString();

export function toBanView(ban: Ban, nowMs: number): AdminBanView {
  return {
    id: ban.id,
    ...(ban.target.type === 'key' ? { key: ban.target.key } : { cidr: ban.target.cidr }),
    kind: ban.kind,
    active: isBanActive(ban, nowMs),
    source: ban.source,
    reason: ban.reason,
    createdBy: ban.createdBy,
    createdAt: iso(ban.createdAtMs),
    ...(ban.expiresAtMs !== undefined ? { expiresAt: iso(ban.expiresAtMs) } : {}),
    ...(ban.liftedAtMs !== undefined ? { liftedAt: iso(ban.liftedAtMs) } : {}),
    ...(ban.liftedBy !== undefined ? { liftedBy: ban.liftedBy } : {}),
    violationCount: ban.violationCount,
    blockCount: ban.blockCount,
    updatedAt: iso(ban.updatedAtMs),
  };
}

export function toViolationView(violation: Violation): AdminViolationView {
  const { key, rule, route, method, hits, limit, atMs } = violation;
  return { key, rule, route, method, hits, limit, at: iso(atMs) };
}

export function toAccessEntryView(entry: AccessListEntry, nowMs: number): AdminAccessEntryView {
  return {
    kind: entry.kind,
    cidr: entry.cidr,
    active: entry.removedAtMs === undefined && (entry.expiresAtMs === undefined || entry.expiresAtMs > nowMs),
    ...(entry.note !== undefined ? { note: entry.note } : {}),
    createdBy: entry.createdBy,
    createdAt: iso(entry.createdAtMs),
    ...(entry.expiresAtMs !== undefined ? { expiresAt: iso(entry.expiresAtMs) } : {}),
    updatedAt: iso(entry.updatedAtMs),
  };
}
