import { parseBareAddress, type ParsedAddress } from '../core/ip/client-address.js';
import { inIpRange, parseIpRange, type IpRange } from '../core/ip/ip-range.js';
import type { AccessListEntry, AccessListKind } from '../storage/access-list-store.interface.js';
import { isBanActive, type Ban } from '../storage/ban-store.interface.js';
import { NO_VERDICT, verdictOfBan, type ProtectionVerdict } from './protection-verdict.js';

type Range = IpRange;

interface Ranged<T> {
  readonly range: Range;
  readonly item: T;
}

/** Parses a canonical CIDR once; null for text that is not one (such a record is ignored). */
function parseRange(cidr: string): Range | null {
  const parsed = parseIpRange(cidr);
  return 'range' in parsed ? parsed.range : null;
}

const inRange = inIpRange;

/** One list of ranges, kept in a map by id and in an array rebuilt on change for the hot path. */
class RangeSet<T> {
  private readonly byId = new Map<string, Ranged<T>>();
  /** Read by `check`; rebuilt on the rare changes. */
  items: readonly Ranged<T>[] = [];

  set(id: string, range: Range, item: T): void {
    this.byId.set(id, { range, item });
    this.items = [...this.byId.values()];
  }

  delete(id: string): void {
    if (this.byId.delete(id)) this.items = [...this.byId.values()];
  }

  ids(): IterableIterator<string> {
    return this.byId.keys();
  }

  get size(): number {
    return this.byId.size;
  }
}

/**
 * The in-process copy of the bans in force and of the allow/deny lists, answering `check` without a
 * store round trip: O(1) for bans by key, O(ranges) for CIDR bans and lists.
 *
 * Records are applied as read: each read returns a record's current state, so a later read always
 * wins, and applying one twice is harmless. Which reads may be applied is the caller's business
 * (BanSync never lets a poll override a local write made while the poll ran).
 */
export class ProtectionCache {
  private readonly keyBans = new Map<string, Ban>();
  private readonly cidrBans = new RangeSet<Ban>();
  private readonly lists: Record<AccessListKind, RangeSet<AccessListEntry>> = { allow: new RangeSet(), deny: new RangeSet() };

  /** Whether nothing is cached: the guard's common case, answered before any parsing. */
  get isEmpty(): boolean {
    return this.keyBans.size === 0 && this.cidrBans.size === 0 && this.lists.allow.size === 0 && this.lists.deny.size === 0;
  }

  /** Counts of what is cached, for status and tests. */
  get sizes(): { keyBans: number; cidrBans: number; allow: number; deny: number } {
    return { keyBans: this.keyBans.size, cidrBans: this.cidrBans.size, allow: this.lists.allow.size, deny: this.lists.deny.size };
  }

  /**
   * The verdict for a client: allow-list first (an operator's own networks are never locked out),
   * then deny-list, then bans of its key, of its address's key and of ranges holding its address (a
   * permanent ban over a block; of two blocks, the longer). The address's bans apply whatever
   * identity the client presents.
   *
   * @param addressKey the key of the client's address, when `key` is an identity's; by default `key`
   */
  check(key: string, address: string | null, nowMs: number, addressKey: string = key): ProtectionVerdict {
    if (this.isEmpty) return NO_VERDICT;
    const ranges = this.cidrBans.size + this.lists.allow.size + this.lists.deny.size;
    const parsed = address === null || ranges === 0 ? null : parseBareAddress(address);
    if (parsed !== null) {
      const allowed = this.matchEntry('allow', parsed, nowMs);
      if (allowed) return { status: 'allow-listed', entry: allowed };
      const denied = this.matchEntry('deny', parsed, nowMs);
      if (denied) return { status: 'deny-listed', entry: denied };
    }
    let strongest = this.activeKeyBan(key, nowMs);
    if (addressKey !== key) {
      const addressBan = this.activeKeyBan(addressKey, nowMs);
      if (addressBan && stronger(addressBan, strongest)) strongest = addressBan;
    }
    if (parsed !== null) {
      for (const { range, item } of this.cidrBans.items) {
        if (isBanActive(item, nowMs) && inRange(parsed, range) && stronger(item, strongest)) strongest = item;
      }
    }
    return strongest ? verdictOfBan(strongest) : NO_VERDICT;
  }

  /** The verdict for a key alone (a rule's own identity): bans by key only. */
  checkKey(key: string, nowMs: number): ProtectionVerdict {
    if (this.keyBans.size === 0) return NO_VERDICT;
    const ban = this.activeKeyBan(key, nowMs);
    return ban ? verdictOfBan(ban) : NO_VERDICT;
  }

  /** Applies a ban record as read from the store: kept while in force, dropped otherwise. */
  applyBan(ban: Ban, nowMs: number): void {
    const active = isBanActive(ban, nowMs);
    if (ban.target.type === 'key') {
      if (active) this.keyBans.set(ban.target.key, ban);
      else this.keyBans.delete(ban.target.key);
    } else {
      const range = active ? parseRange(ban.target.cidr) : null;
      if (range) this.cidrBans.set(ban.id, range, ban);
      else this.cidrBans.delete(ban.id);
    }
  }

  /** Applies an allow/deny-list entry as read from the store: kept while live, dropped otherwise. */
  applyEntry(entry: AccessListEntry, nowMs: number): void {
    const id = entryId(entry);
    const live = entry.removedAtMs === undefined && (entry.expiresAtMs === undefined || entry.expiresAtMs > nowMs);
    const range = live ? parseRange(entry.cidr) : null;
    if (range) this.lists[entry.kind].set(id, range, entry);
    else this.lists[entry.kind].delete(id);
  }

  /**
   * Makes the cache what a full listing says: the bans in force and the live entries, nothing
   * else. Records for which `keep(id)` holds (written here after the listing began) stay as they are.
   */
  replaceAll(bans: readonly Ban[], entries: readonly AccessListEntry[], nowMs: number, keep: (id: string) => boolean = () => false): void {
    const listed = new Set<string>();
    for (const ban of bans) {
      listed.add(ban.id);
      if (!keep(ban.id)) this.applyBan(ban, nowMs);
    }
    for (const entry of entries) {
      const id = entryId(entry);
      listed.add(id);
      if (!keep(id)) this.applyEntry(entry, nowMs);
    }
    const stale = (id: string) => !listed.has(id) && !keep(id);
    for (const [key, ban] of this.keyBans) if (stale(ban.id)) this.keyBans.delete(key);
    for (const set of [this.cidrBans, this.lists.allow, this.lists.deny] as RangeSet<unknown>[]) {
      for (const id of [...set.ids()]) if (stale(id)) set.delete(id);
    }
  }

  /** Drops bans and entries no longer in force. */
  prune(nowMs: number): void {
    for (const [key, ban] of this.keyBans) if (!isBanActive(ban, nowMs)) this.keyBans.delete(key);
    for (const { item } of this.cidrBans.items) if (!isBanActive(item, nowMs)) this.cidrBans.delete(item.id);
    for (const kind of ['allow', 'deny'] as const) {
      for (const { item } of this.lists[kind].items) {
        if (item.expiresAtMs !== undefined && item.expiresAtMs <= nowMs) this.lists[kind].delete(entryId(item));
      }
    }
  }

  private activeKeyBan(key: string, nowMs: number): Ban | undefined {
    const ban = this.keyBans.get(key);
    return ban && isBanActive(ban, nowMs) ? ban : undefined;
  }

  private matchEntry(kind: AccessListKind, address: ParsedAddress, nowMs: number): AccessListEntry | undefined {
    for (const { range, item } of this.lists[kind].items) {
      if ((item.expiresAtMs === undefined || item.expiresAtMs > nowMs) && inRange(address, range)) return item;
    }
    return undefined;
  }
}

/** The id of an allow/deny-list entry: `<kind>:<cidr>`. */
export function entryId(entry: Pick<AccessListEntry, 'kind' | 'cidr'>): string {
  return `${entry.kind}:${entry.cidr}`;
}

/** Whether `candidate` should answer rather than `current`: permanent over temporary, then the later end. */
function stronger(candidate: Ban, current: Ban | undefined): boolean {
  if (!current) return true;
  if (current.kind === 'permanent') return false;
  if (candidate.kind === 'permanent') return true;
  return (candidate.expiresAtMs ?? 0) > (current.expiresAtMs ?? 0);
}
