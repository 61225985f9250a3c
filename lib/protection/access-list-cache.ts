import type { ParsedAddress } from '../core/ip/client-address.js';
import { IpRangeIndex } from '../core/ip/ip-range-index.js';
import { parseIpRange, type IpRange } from '../core/ip/ip-range.js';
import type { AccessListEntry, AccessListKind } from '../storage/access-list-store.interface.js';

/** Parses a canonical CIDR once; null for text that is not one (such a record is ignored). */
export function parseRange(cidr: string): IpRange | null {
  const parsed = parseIpRange(cidr);
  return 'range' in parsed ? parsed.range : null;
}

/** The id of an allow/deny-list entry: `<kind>:<cidr>`. */
export function entryId(entry: Pick<AccessListEntry, 'kind' | 'cidr'>): string {
  return `${entry.kind}:${entry.cidr}`;
}

/** The live allow- and deny-list entries held in memory, each list a prefix trie of its ranges. */
export class AccessListCache {
  private readonly lists: Record<AccessListKind, IpRangeIndex<AccessListEntry>> = { allow: new IpRangeIndex(), deny: new IpRangeIndex() };

  size(kind: AccessListKind): number {
    return this.lists[kind].size;
  }

  /** Applies an entry as read from the store: kept while live, dropped otherwise. Returns its id. */
  apply(entry: AccessListEntry, nowMs: number): string {
    const id = entryId(entry);
    const live = entry.removedAtMs === undefined && (entry.expiresAtMs === undefined || entry.expiresAtMs > nowMs);
    const range = live ? parseRange(entry.cidr) : null;
    if (range) this.lists[entry.kind].set(id, range, entry);
    else this.lists[entry.kind].delete(id);
    return id;
  }

  /** The most specific live entry of `kind` holding `address`. */
  match(kind: AccessListKind, address: ParsedAddress, nowMs: number): AccessListEntry | undefined {
    const index = this.lists[kind];
    if (index.size === 0) return undefined;
    const matches = index.collect(address, []);
    for (let i = matches.length - 1; i >= 0; i--) {
      const item = matches[i]!;
      if (item.expiresAtMs === undefined || item.expiresAtMs > nowMs) return item;
    }
    return undefined;
  }

  /** Drops the entries for which `stale(id)` holds. */
  dropWhere(stale: (id: string) => boolean): void {
    for (const index of Object.values(this.lists)) for (const id of [...index.ids()]) if (stale(id)) index.delete(id);
  }

  /** Drops the entries that have expired. */
  prune(nowMs: number): void {
    for (const index of Object.values(this.lists)) {
      for (const item of [...index.values()]) if (item.expiresAtMs !== undefined && item.expiresAtMs <= nowMs) index.delete(entryId(item));
    }
  }
}
