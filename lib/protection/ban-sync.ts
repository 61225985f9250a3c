import type { Clock } from '../core/clock.js';
import type { AccessListEntry } from '../storage/access-list-store.interface.js';
import type { Ban } from '../storage/ban-store.interface.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import { entryId, ProtectionCache } from './protection-cache.js';
import type { ProtectionVerdict } from './protection-verdict.js';

/**
 * Each poll re-reads changes from this long before the previous poll started, so that a record
 * written by an instance whose clock is behind (by up to this much), or committed a little after
 * the poll read past it, is still seen. Re-applying a record is harmless (see ProtectionCache).
 */
export const BAN_SYNC_OVERLAP_MS = 10_000;
/**
 * Every this long the cache is rebuilt from the bans in force and the lists, catching what change
 * sets cannot show: a record removed outright (an unban that clears history) and anything a clock
 * difference beyond the overlap hid.
 */
export const FULL_RELOAD_INTERVAL_MS = 60_000;
/** Records fetched per `changedSince` call. */
const CHANGES_PAGE = 1_000;
/** Bans listed per page by a full reload. */
const LIST_PAGE = 500;

/** A storage call off the request path, bounded so that a silent storage never stalls a poll for good. */
export type Bounded = <T>(call: () => Promise<T>) => Promise<T>;

/**
 * The bans in force and the allow/deny lists, kept in memory so that checking a client costs no
 * store round trip, and kept in step with the other instances by polling
 * `changedSince(cursor - BAN_SYNC_OVERLAP_MS)`. A change made on another instance is enforced here
 * within the poll interval plus one store round trip; changes made on this instance (`applyBan`,
 * `applyEntry`) are enforced at once.
 */
export class BanSync {
  private readonly cache = new ProtectionCache();
  /** Local clock at the start of the last successful poll; undefined until the first full load. */
  private cursorMs: number | undefined;
  private lastFullReloadMs = -Infinity;
  /** The tail of the serialized polls. */
  private syncTail: Promise<void> = Promise.resolve();
  /** Whether a poll is running (a slow store: the timer skips rather than pile polls up). */
  private running = false;
  /**
   * Local writes by record id, numbered: a poll never overrides a record written here after it
   * began (its read may predate the write). Reads are otherwise applied as they come, whatever the
   * records' timestamps, so a writer's clock never decides what is in force.
   */
  private writeSeq = 0;
  private readonly localWrites = new Map<string, number>();

  constructor(
    private readonly storage: RampartStorage,
    private readonly clock: Clock,
    private readonly bounded: Bounded,
  ) {}

  /**
   * What to do with a client before any rule: allow-listed, deny-listed, banned, blocked or
   * nothing known. Synchronous and without store access.
   *
   * @param key the client key
   * @param address the client address in canonical form, null when unknown
   * @param addressKey the key of that address (`unknown` without one), whose bans apply whatever
   *   identity the client presents; by default `key`
   */
  check(key: string, address: string | null, nowMs: number, addressKey: string = key): ProtectionVerdict {
    return this.cache.check(key, address, nowMs, addressKey);
  }

  /** Bans of a client key alone (a rule's own `keyResolver` identity). Synchronous, without store access. */
  checkKey(key: string, nowMs: number): ProtectionVerdict {
    return this.cache.checkKey(key, nowMs);
  }

  /** Whether a poll is running. */
  get polling(): boolean {
    return this.running;
  }

  /** Applies a ban record this instance just wrote (or adopted), ahead of any poll in flight. */
  applyBan(ban: Ban, nowMs: number): void {
    this.localWrites.set(ban.id, ++this.writeSeq);
    this.cache.applyBan(ban, nowMs);
  }

  /** Applies a list entry this instance just wrote, ahead of any poll in flight. */
  applyEntry(entry: AccessListEntry, nowMs: number): void {
    this.localWrites.set(entryId(entry), ++this.writeSeq);
    this.cache.applyEntry(entry, nowMs);
  }

  /**
   * Fetches ban and allow/deny-list changes now (a full reload on first use and every
   * FULL_RELOAD_INTERVAL_MS). Polls run one at a time; a call made while one runs waits for it
   * and then polls again, so it sees every write that finished before the call.
   */
  syncNow(): Promise<void> {
    const run = this.syncTail.then(() => this.poll());
    this.syncTail = run.catch(() => undefined);
    return run;
  }

  private async poll(): Promise<void> {
    this.running = true;
    const pollSeq = this.writeSeq;
    const keep = (id: string) => (this.localWrites.get(id) ?? 0) > pollSeq;
    try {
      const startedAtMs = this.clock.now();
      if (this.cursorMs === undefined || startedAtMs - this.lastFullReloadMs >= FULL_RELOAD_INTERVAL_MS) {
        await this.fullReload(startedAtMs, keep);
        this.lastFullReloadMs = startedAtMs;
        // Removals and lifts are not in a listing of what is in force; fetch the latest ones too.
        await this.fetchChanges(startedAtMs - BAN_SYNC_OVERLAP_MS, keep);
      } else {
        await this.fetchChanges(this.cursorMs - BAN_SYNC_OVERLAP_MS, keep);
      }
      this.cache.prune(this.clock.now());
      this.cursorMs = startedAtMs;
    } finally {
      this.running = false;
      for (const [id, seq] of this.localWrites) if (seq <= pollSeq) this.localWrites.delete(id);
    }
  }

  private async fullReload(listedAtMs: number, keep: (id: string) => boolean): Promise<void> {
    const { bans, accessList } = this.storage;
    const active: Ban[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bounded(() => bans.list({ activeAtMs: listedAtMs }, { limit: LIST_PAGE, ...(cursor !== undefined ? { cursor } : {}) }));
      active.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const entries = await this.bounded(() => accessList.list());
    this.cache.replaceAll(active, entries, this.clock.now(), keep);
  }

  private async fetchChanges(sinceMs: number, keep: (id: string) => boolean): Promise<void> {
    const { bans, accessList } = this.storage;
    await pageThrough(
      sinceMs,
      (since) => this.bounded(() => bans.changedSince(since, CHANGES_PAGE)),
      (ban) => {
        if (!keep(ban.id)) this.cache.applyBan(ban, this.clock.now());
      },
    );
    await pageThrough(
      sinceMs,
      (since) => this.bounded(() => accessList.changedSince(since, CHANGES_PAGE)),
      (entry) => {
        if (!keep(entryId(entry))) this.cache.applyEntry(entry, this.clock.now());
      },
    );
  }
}

/**
 * Reads every change at or after `sinceMs`, a page at a time, moving `since` to the newest
 * `updatedAtMs` of each full page (so records sharing that time are read again, harmlessly).
 */
async function pageThrough<T extends { updatedAtMs: number }>(
  sinceMs: number,
  fetch: (since: number) => Promise<readonly T[]>,
  apply: (item: T) => unknown,
): Promise<void> {
  let since = sinceMs;
  for (;;) {
    const page = await fetch(since);
    let newest = since;
    for (const item of page) {
      apply(item);
      if (item.updatedAtMs > newest) newest = item.updatedAtMs;
    }
    // A short page is the last; a full page whose records all share one time cannot be paged on.
    if (page.length < CHANGES_PAGE || newest === since) return;
    since = newest;
  }
}
