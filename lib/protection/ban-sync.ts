import type { Clock } from '../core/clock.js';
import type { AccessListEntry } from '../storage/access-list-store.interface.js';
import type { Ban, BanTarget } from '../storage/ban-store.interface.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import { entryId } from './access-list-cache.js';
import { pageThrough } from './page-through.js';
import { ProtectionCache } from './protection-cache.js';
import type { ProtectionVerdict } from './protection-verdict.js';

/**
 * How far apart the clocks of a fleet's instances may be (what the README asks: NTP keeps them
 * much closer). Bans are stamped with the writer's clock and polled by the reader's.
 */
export const TOLERATED_CLOCK_SKEW_MS = 2_000;
/**
 * Each poll re-reads changes from this long before the previous poll started, so that a record
 * written by an instance whose clock is behind (by up to TOLERATED_CLOCK_SKEW_MS), or committed a
 * while after the time it is stamped with (a storage step may take up to 10 × `storeTimeoutMs`,
 * 5 s by default), is still seen: 2 s of skew + 5 s of write + 1 s poll interval, with 2 s to spare.
 * Re-applying a record is harmless (see ProtectionCache).
 */
export const BAN_SYNC_OVERLAP_MS = 10_000;
/**
 * Every this long the cache is rebuilt from the bans in force and the lists, catching what change
 * sets cannot show: a record removed outright and anything a write slower than the overlap hid.
 * Streamed in batches, so its memory is one batch; at a million bans in force it reads a million
 * records, hence rarely.
 */
export const FULL_RELOAD_INTERVAL_MS = 300_000;
/** Records fetched per `changedSince` call. */
const CHANGES_PAGE = 10_000;
/** Bans listed per page by a full reload of a store without `streamActive`. */
const LIST_PAGE = 500;
/** Bans per batch of a full reload's stream. */
const STREAM_BATCH = 5_000;
/** During a full reload, changes are still fetched this often (between batches). */
const CHANGES_DURING_RELOAD_MS = 1_000;

/** A storage call off the request path, bounded so that a silent storage never stalls a poll for good. */
export type Bounded = <T>(call: () => Promise<T>) => Promise<T>;

export interface BanSyncOptions {
  /** Most automatic key bans held as records (see ProtectionCache). @default 50 000 */
  readonly maxCachedKeyBans?: number;
  /**
   * Bounds the store read a request makes for a client whose ban record the cache dropped (the
   * request's own timeout, `storeTimeoutMs`). @default the `bounded` of the polls
   */
  readonly requestBounded?: Bounded;
  /** Whether such reads are skipped for now (the store is down): the client is then answered as unknown. */
  readonly lookupsPaused?: () => boolean;
}

/**
 * The bans in force and the allow/deny lists, kept in memory so that checking a client costs no
 * store round trip, and kept in step with the other instances by polling
 * `changedSince(cursor - BAN_SYNC_OVERLAP_MS)`. A change made on another instance is enforced here
 * within the poll interval plus one store round trip; changes made on this instance (`applyBan`,
 * `applyEntry`) are enforced at once.
 *
 * The cache is bounded (see ProtectionCache): a client whose automatic ban record was dropped past
 * the bound is read from the store on its next request (one round trip, after which it is held
 * again); an operator's ban is always held.
 */
export class BanSync {
  private readonly cache: ProtectionCache;
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
  private readonly changeListeners: ((target: BanTarget) => void)[] = [];
  /** Store reads of keys the cache may have dropped, one per key at a time; `stale` once the key was applied meanwhile. */
  private readonly lookups = new Map<string, { stale: boolean; done: Promise<void> }>();
  private readonly requestBounded: Bounded;

  constructor(
    private readonly storage: RampartStorage,
    private readonly clock: Clock,
    private readonly bounded: Bounded,
    private readonly options: BanSyncOptions = {},
  ) {
    this.cache = new ProtectionCache(options.maxCachedKeyBans === undefined ? {} : { maxKeyBans: options.maxCachedKeyBans });
    this.requestBounded = options.requestBounded ?? bounded;
  }

  /**
   * What to do with a client before any rule: allow-listed, deny-listed, banned, blocked or
   * nothing known. Without store access, synchronously, for every client but one whose ban record
   * the cache dropped past its bound: that one is read from the store (a promise), once.
   *
   * @param key the client key
   * @param address the client address in canonical form, null when unknown (bans by key only)
   * @param addressKey the key of that address (`unknown` without one), whose bans apply whatever
   *   identity the client presents; by default `key`
   */
  check(key: string, address: string | null, nowMs: number, addressKey: string = key): ProtectionVerdict | Promise<ProtectionVerdict> {
    const verdict = this.cache.check(key, address, nowMs, addressKey);
    if (verdict.status !== 'none' || this.options.lookupsPaused?.()) return verdict;
    const keyUnknown = this.cache.mayHoldUnknownBan(key);
    const addressUnknown = addressKey !== key && this.cache.mayHoldUnknownBan(addressKey);
    if (!keyUnknown && !addressUnknown) return verdict;
    const lookups = [keyUnknown ? this.lookup(key) : undefined, addressUnknown ? this.lookup(addressKey) : undefined];
    return Promise.all(lookups).then(() => this.cache.check(key, address, nowMs, addressKey));
  }

  /**
   * Bans of a client key alone, as held in memory: synchronous, without store access (a key whose
   * record was dropped answers none; `check(key, null, nowMs)` reads it).
   */
  checkKey(key: string, nowMs: number): ProtectionVerdict {
    return this.cache.checkKey(key, nowMs);
  }

  /** Counts of what is held in memory, for status, tests and benchmarks. */
  get sizes(): ProtectionCache['sizes'] & ProtectionCache['stats'] {
    return { ...this.cache.sizes, ...this.cache.stats };
  }

  /** The bans held in memory and in force at `nowMs` (see ProtectionCache.activeBans). */
  activeBans(nowMs: number): Iterable<Ban> {
    return this.cache.activeBans(nowMs);
  }

  /** Whether a poll is running. */
  get polling(): boolean {
    return this.running;
  }

  /** Applies a ban record this instance just wrote (or adopted), ahead of any poll in flight. */
  applyBan(ban: Ban, nowMs: number): void {
    this.localWrites.set(ban.id, ++this.writeSeq);
    this.apply(ban, nowMs);
  }

  /** Applies a list entry this instance just wrote, ahead of any poll in flight. */
  applyEntry(entry: AccessListEntry, nowMs: number): void {
    this.localWrites.set(entryId(entry), ++this.writeSeq);
    this.cache.applyEntry(entry, nowMs);
    this.changed({ type: 'cidr', cidr: entry.cidr });
  }

  /**
   * Calls `listener` with the target of each ban learnt from another instance, and of each list
   * entry written here or learnt (bans made here are announced by events): open connections of
   * those clients are checked again at once, not at their next message.
   */
  onChange(listener: (target: BanTarget) => void): void {
    this.changeListeners.push(listener);
  }

  private changed(target: BanTarget): void {
    for (const listener of this.changeListeners) {
      try {
        listener(target);
      } catch {
        // A listener's failure is its own; the sync goes on.
      }
    }
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
      const due = startedAtMs - this.lastFullReloadMs >= FULL_RELOAD_INTERVAL_MS || this.cache.filterSaturated;
      if (this.cursorMs === undefined || due) {
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

  /** Reads `key`'s record (one read per key at a time) and applies it, unless the key was applied meanwhile. */
  private lookup(key: string): Promise<void> {
    const pending = this.lookups.get(key);
    if (pending) return pending.done;
    const entry = { stale: false, done: Promise.resolve() };
    entry.done = this.requestBounded(() => this.storage.bans.get({ type: 'key', key })).then(
      (ban) => {
        this.lookups.delete(key);
        if (!entry.stale) this.cache.applyLookup(key, ban, this.clock.now());
      },
      () => {
        // Unanswered: the client is unknown for this request, and read again on its next one.
        this.lookups.delete(key);
      },
    );
    this.lookups.set(key, entry);
    return entry.done;
  }

  /** Applies a ban record; a read of its key still in flight is then older than what is held. */
  private apply(ban: Ban, nowMs: number): void {
    if (ban.target.type === 'key') {
      const pending = this.lookups.get(ban.target.key);
      if (pending) pending.stale = true;
    }
    this.cache.applyBan(ban, nowMs);
  }

  /** Streams the bans in force into the cache in batches, then the lists, then drops what was not listed. */
  private async fullReload(listedAtMs: number, keep: (id: string) => boolean): Promise<void> {
    const { bans, accessList } = this.storage;
    this.cache.beginReload();
    for (const pending of this.lookups.values()) pending.stale = true;
    let changesAtMs = this.clock.now();
    const applyAll = async (batch: readonly Ban[]) => {
      const nowMs = this.clock.now();
      for (const ban of batch) this.cache.applyListed(ban, nowMs, keep);
      // A long reload (a million bans) must not hold up propagation: the changes are fetched
      // between batches as a poll would (what they apply counts as listed).
      if (this.cursorMs !== undefined && nowMs - changesAtMs >= CHANGES_DURING_RELOAD_MS) {
        changesAtMs = nowMs;
        await this.fetchChanges(this.cursorMs - BAN_SYNC_OVERLAP_MS, keep);
        this.cursorMs = nowMs;
      }
    };
    if (bans.streamActive) {
      const batches = bans.streamActive(listedAtMs, STREAM_BATCH)[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await this.bounded(() => batches.next());
          if (next.done) break;
          await applyAll(next.value);
        }
      } catch (error) {
        void batches.return?.();
        throw error;
      }
    } else {
      let cursor: string | undefined;
      do {
        const page = await this.bounded(() => bans.list({ activeAtMs: listedAtMs }, { limit: LIST_PAGE, ...(cursor !== undefined ? { cursor } : {}) }));
        await applyAll(page.items);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    }
    const entries = await this.bounded(() => accessList.list());
    this.cache.endReload(entries, this.clock.now(), keep);
  }

  private async fetchChanges(sinceMs: number, keep: (id: string) => boolean): Promise<void> {
    const { bans, accessList } = this.storage;
    await pageThrough(
      sinceMs,
      CHANGES_PAGE,
      (since) => this.bounded(() => bans.changedSince(since, CHANGES_PAGE)),
      (ban) => {
        if (keep(ban.id)) return;
        this.apply(ban, this.clock.now());
        this.changed(ban.target);
      },
    );
    await pageThrough(
      sinceMs,
      CHANGES_PAGE,
      (since) => this.bounded(() => accessList.changedSince(since, CHANGES_PAGE)),
      (entry) => {
        if (keep(entryId(entry))) return;
        this.cache.applyEntry(entry, this.clock.now());
        this.changed({ type: 'cidr', cidr: entry.cidr });
      },
    );
  }
}
