import { parseBareAddress } from '../core/ip/client-address.js';
import { IpRangeIndex } from '../core/ip/ip-range-index.js';
import type { AccessListEntry } from '../storage/access-list-store.interface.js';
import { isBanActive, type Ban } from '../storage/ban-store.interface.js';
import { AccessListCache, entryId, parseRange } from './access-list-cache.js';
import { KeyFilter } from './key-filter.js';
import { NO_VERDICT, strongerBan, verdictOfBan, type ProtectionVerdict } from './protection-verdict.js';

/**
 * Most automatic key bans a cache holds as records by default. An operator's bans and range bans
 * are always held; past this bound the least recently applied automatic ban is dropped from the
 * records (its key stays in the cache's filter, so the client is looked up, not forgotten).
 */
export const DEFAULT_MAX_CACHED_KEY_BANS = 50_000;
/** Keys a lookup found without a ban in force, remembered so that they are not looked up again. */
const MAX_ABSENT_KEYS = 10_000;

export interface ProtectionCacheOptions {
  /** @default DEFAULT_MAX_CACHED_KEY_BANS (50 000) */
  readonly maxKeyBans?: number;
}

/**
 * The in-process copy of the bans in force and of the allow/deny lists, answering `check` without a
 * store round trip: O(1) for bans by key, O(prefix length) for CIDR bans and lists (a prefix trie
 * per address family, whatever the number of ranges).
 *
 * Bounded: every operator ban (by key or range) and list entry is held; automatic key bans are held
 * up to `maxKeyBans`, least recently applied dropped first. Every key applied with a ban in force
 * goes into a Bloom filter (about 2 bytes per key, at most 32 MiB), so a key whose record was
 * dropped is never mistaken for an unknown client: `mayHoldUnknownBan` tells the caller to look it
 * up in the store, and an unknown client is looked up only on a false positive (about 1 in 2 000
 * up to some 16 million keys; more often past the filter's 32 MiB),
 * once (keys found without a ban are remembered, up to 10 000).
 *
 * Records are applied as read: each read returns a record's current state, so a later read always
 * wins, and applying one twice is harmless. Which reads may be applied is the caller's business
 * (BanSync never lets a poll override a local write made while the poll ran).
 */
export class ProtectionCache {
  private readonly maxKeyBans: number;
  /** Operators' key bans in force, by key: never dropped while in force. */
  private readonly operatorKeyBans = new Map<string, Ban>();
  /** Automatic key bans in force, by key, least recently applied first; at most `maxKeyBans`. */
  private readonly autoKeyBans = new Map<string, Ban>();
  /** Every key applied with a ban in force since the last full reload (dropped records included). */
  private filter = new KeyFilter(0);
  /** Keys known to have no ban in force (a lookup or a read said so), oldest first. */
  private readonly absent = new Set<string>();
  private readonly cidrBans = new IpRangeIndex<Ban>();
  private readonly lists = new AccessListCache();
  /** While a full reload runs: the filter it builds, and the ids of held records it listed. */
  private reload: { filter: KeyFilter; listed: Set<string> } | undefined;
  /** Key bans the last full reload found in force. */
  private listedKeyBans = 0;

  constructor(options: ProtectionCacheOptions = {}) {
    this.maxKeyBans = options.maxKeyBans ?? DEFAULT_MAX_CACHED_KEY_BANS;
  }

  /** Whether nothing is cached: the guard's common case, answered before any parsing. */
  get isEmpty(): boolean {
    return (
      this.operatorKeyBans.size === 0 &&
      this.autoKeyBans.size === 0 &&
      this.filter.count === 0 &&
      this.cidrBans.size === 0 &&
      this.lists.size('allow') === 0 &&
      this.lists.size('deny') === 0
    );
  }

  /** Counts of the records held, for status and tests. */
  get sizes(): { keyBans: number; cidrBans: number; allow: number; deny: number } {
    return {
      keyBans: this.operatorKeyBans.size + this.autoKeyBans.size,
      cidrBans: this.cidrBans.size,
      allow: this.lists.size('allow'),
      deny: this.lists.size('deny'),
    };
  }

  /** What the bound applies to, and the filter's size. */
  get stats(): { operatorKeyBans: number; autoKeyBans: number; maxKeyBans: number; filterKeys: number; filterBytes: number; absentKeys: number } {
    return {
      operatorKeyBans: this.operatorKeyBans.size,
      autoKeyBans: this.autoKeyBans.size,
      maxKeyBans: this.maxKeyBans,
      filterKeys: this.filter.count,
      filterBytes: this.filter.bytes,
      absentKeys: this.absent.size,
    };
  }

  /** The bans held and in force, by key and by range (automatic key bans past the bound are not held). */
  *activeBans(nowMs: number): Iterable<Ban> {
    for (const bans of [this.operatorKeyBans.values(), this.autoKeyBans.values(), this.cidrBans.values()])
      for (const ban of bans) if (isBanActive(ban, nowMs)) yield ban;
  }

  /** Whether the filter holds more keys than it was sized for (a full reload sizes it again). */
  get filterSaturated(): boolean {
    return this.filter.saturated;
  }

  /**
   * The verdict for a client: allow-list first (an operator's own networks are never locked out),
   * then deny-list, then bans of its key, of its address's key and of ranges holding its address (a
   * permanent ban over a block; of two blocks, the longer). The address's bans apply whatever
   * identity the client presents. A key whose ban record was dropped answers none here: see
   * `mayHoldUnknownBan`.
   *
   * @param addressKey the key of the client's address, when `key` is an identity's; by default `key`
   */
  check(key: string, address: string | null, nowMs: number, addressKey: string = key): ProtectionVerdict {
    if (this.isEmpty) return NO_VERDICT;
    const ranges = this.cidrBans.size + this.lists.size('allow') + this.lists.size('deny');
    const parsed = address === null || ranges === 0 ? null : parseBareAddress(address);
    if (parsed !== null) {
      const allowed = this.lists.match('allow', parsed, nowMs);
      if (allowed) return { status: 'allow-listed', entry: allowed };
      const denied = this.lists.match('deny', parsed, nowMs);
      if (denied) return { status: 'deny-listed', entry: denied };
    }
    let strongest = this.activeKeyBan(key, nowMs);
    if (addressKey !== key) {
      const addressBan = this.activeKeyBan(addressKey, nowMs);
      if (addressBan && strongerBan(addressBan, strongest)) strongest = addressBan;
    }
    if (parsed !== null && this.cidrBans.size > 0) {
      for (const item of this.cidrBans.collect(parsed, [])) {
        if (isBanActive(item, nowMs) && strongerBan(item, strongest)) strongest = item;
      }
    }
    return strongest ? verdictOfBan(strongest) : NO_VERDICT;
  }

  /** The verdict for a key alone (a rule's own identity): bans by key only. */
  checkKey(key: string, nowMs: number): ProtectionVerdict {
    const ban = this.activeKeyBan(key, nowMs);
    return ban ? verdictOfBan(ban) : NO_VERDICT;
  }

  /**
   * Whether `key` may have a ban in force that the cache does not hold (its record was dropped past
   * the bound): only then is the store asked. False for a key held, known absent, or never applied
   * with a ban in force (but for the filter's rare false positives).
   */
  mayHoldUnknownBan(key: string): boolean {
    if (this.filter.count === 0 || this.autoKeyBans.has(key) || this.operatorKeyBans.has(key) || this.absent.has(key)) return false;
    return this.filter.mightHold(key);
  }

  /** Applies what a lookup of `key` read from the store: its record, or null when it has none. */
  applyLookup(key: string, ban: Ban | null, nowMs: number): void {
    if (ban !== null && ban.target.type === 'key' && ban.target.key === key) this.applyBan(ban, nowMs);
    else this.markAbsent(key);
  }

  /** Applies a ban record as read from the store: kept while in force, dropped otherwise. */
  applyBan(ban: Ban, nowMs: number): void {
    // Applied during a full reload, it is newer than the listing: not to be dropped as unlisted.
    this.reload?.listed.add(ban.id);
    const active = isBanActive(ban, nowMs);
    if (ban.target.type === 'key') {
      const { key } = ban.target;
      this.operatorKeyBans.delete(key);
      this.autoKeyBans.delete(key);
      if (!active) {
        this.markAbsent(key);
        return;
      }
      this.absent.delete(key);
      this.filter.add(key);
      this.reload?.filter.add(key);
      if (ban.source === 'admin') {
        this.operatorKeyBans.set(key, ban);
        return;
      }
      this.autoKeyBans.set(key, ban);
      if (this.autoKeyBans.size > this.maxKeyBans) {
        // The least recently applied: its key stays in the filter, so it is looked up, not forgotten.
        for (const oldest of this.autoKeyBans.keys()) {
          this.autoKeyBans.delete(oldest);
          break;
        }
      }
    } else {
      const range = active ? parseRange(ban.target.cidr) : null;
      if (range) this.cidrBans.set(ban.id, range, ban);
      else this.cidrBans.delete(ban.id);
    }
  }

  /** Applies an allow/deny-list entry as read from the store: kept while live, dropped otherwise. */
  applyEntry(entry: AccessListEntry, nowMs: number): void {
    const id = this.lists.apply(entry, nowMs);
    this.reload?.listed.add(id);
  }

  /**
   * Starts a full reload: the bans in force are then given to `applyListed` (in batches, in any
   * order) and the reload ends with `endReload`. Meanwhile the cache answers as before.
   *
   * @param expectedKeyBans roughly how many key bans are in force (sizes the new filter)
   */
  beginReload(expectedKeyBans = 0): void {
    // Sized for what the last listing found, with room to grow; a first load grows it by layers.
    const expected = Math.max(expectedKeyBans, Math.ceil(this.listedKeyBans * 1.5));
    this.reload = { filter: new KeyFilter(expected), listed: new Set() };
  }

  /**
   * A ban a full listing found in force. Operator and range bans are held; an automatic one is
   * held if it already is or if there is room, and its key goes into the new filter in any case.
   * Records for which `keep(id)` holds (written here after the listing began) stay as they are.
   */
  applyListed(ban: Ban, nowMs: number, keep: (id: string) => boolean): void {
    const reload = this.reload;
    if (reload === undefined || !isBanActive(ban, nowMs)) return;
    if (ban.target.type === 'key') {
      reload.filter.add(ban.target.key);
      const held = this.autoKeyBans.has(ban.target.key) || this.operatorKeyBans.has(ban.target.key);
      if (!held && ban.source !== 'admin' && this.autoKeyBans.size >= this.maxKeyBans) return;
    }
    reload.listed.add(ban.id);
    if (!keep(ban.id)) this.applyBan(ban, nowMs);
  }

  /**
   * Ends a full reload: the list entries are replaced by `entries`, every held record the listing
   * did not show is dropped (unless `keep(id)`), and the new filter replaces the old one.
   */
  endReload(entries: readonly AccessListEntry[], nowMs: number, keep: (id: string) => boolean = () => false): void {
    const reload = this.reload;
    if (reload === undefined) return;
    this.reload = undefined;
    const { listed } = reload;
    for (const entry of entries) {
      const id = entryId(entry);
      listed.add(id);
      if (!keep(id)) this.applyEntry(entry, nowMs);
    }
    const stale = (id: string) => !listed.has(id) && !keep(id);
    for (const map of [this.operatorKeyBans, this.autoKeyBans]) {
      for (const [key, ban] of map) {
        if (stale(ban.id)) map.delete(key);
        else reload.filter.add(key);
      }
    }
    for (const id of [...this.cidrBans.ids()]) if (stale(id)) this.cidrBans.delete(id);
    this.lists.dropWhere(stale);
    this.listedKeyBans = reload.filter.count;
    reload.filter.settle();
    this.filter = reload.filter;
    // What a lookup found absent may have been banned since; the listing is newer.
    this.absent.clear();
  }

  /**
   * Makes the cache what a full listing says: the bans in force and the live entries, nothing
   * else. Records for which `keep(id)` holds (written here after the listing began) stay as they are.
   */
  replaceAll(bans: readonly Ban[], entries: readonly AccessListEntry[], nowMs: number, keep: (id: string) => boolean = () => false): void {
    this.beginReload(bans.length);
    for (const ban of bans) this.applyListed(ban, nowMs, keep);
    this.endReload(entries, nowMs, keep);
  }

  /** Drops bans and entries no longer in force. */
  prune(nowMs: number): void {
    for (const map of [this.operatorKeyBans, this.autoKeyBans]) {
      for (const [key, ban] of map) {
        if (isBanActive(ban, nowMs)) continue;
        map.delete(key);
        // Its key stays in the filter: known absent, the client is not looked up.
        this.markAbsent(key);
      }
    }
    for (const item of [...this.cidrBans.values()]) if (!isBanActive(item, nowMs)) this.cidrBans.delete(item.id);
    this.lists.prune(nowMs);
  }

  private markAbsent(key: string): void {
    if (this.filter.count === 0) return;
    this.absent.delete(key);
    this.absent.add(key);
    if (this.absent.size > MAX_ABSENT_KEYS) {
      for (const oldest of this.absent) {
        this.absent.delete(oldest);
        break;
      }
    }
  }

  private activeKeyBan(key: string, nowMs: number): Ban | undefined {
    const ban = this.operatorKeyBans.get(key) ?? this.autoKeyBans.get(key);
    return ban && isBanActive(ban, nowMs) ? ban : undefined;
  }
}
