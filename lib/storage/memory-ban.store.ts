import {
  isBanActive,
  type Ban,
  type BanFilter,
  type BanStore,
  type BanTarget,
  type NewBan,
  type Page,
  type PageRequest,
  type PutCondition,
} from './ban-store.interface.js';
import {
  checkChangedSince,
  checkDurationOption,
  checkPageRequest,
  checkSizeOption,
  checkTime,
  decodeCursor,
  DEFAULT_RETENTION_MS,
  encodeCursor,
} from './store-input.js';
import { banMatchesFilter, checkBanFilter, checkBanTarget, checkNewBan, checkPutCondition } from './ban-input.js';

/** Options of the in-memory ban store. */
export interface MemoryBanStoreOptions {
  /**
   * Most ban records kept. Past it the least recently changed record that is no longer in force is
   * dropped, else the least recently changed automatic one. An operator's ban in force is never
   * dropped: when every other record is one, `put` of a new record fails instead.
   * @default 100_000
   */
  maxRecords?: number;
  /**
   * How long a lifted or expired ban is kept as history (and its `blockCount` remembered) after it
   * ended. Such records are dropped when met afterwards.
   * @default 2_592_000_000 (30 days)
   */
  historyRetentionMs?: number;
}

/** Records examined from the least recently changed end per write: amortised O(1) cleanup. */
const SWEEP_PER_CALL = 2;
/** Records examined when looking for one to evict past `maxRecords`. */
const EVICTION_SCAN = 64;

/**
 * Bans of one process. A `Map` kept in order of last change holds the records; ended records are
 * forgotten `historyRetentionMs` after they ended, a few per write, so no timer is needed and none
 * keeps the process alive. A log of writes, with the latest `updatedAtMs` up to each, answers
 * `changedSince` in O(log n + changes) rather than by scanning every record.
 */
export class MemoryBanStore implements BanStore {
  private readonly records = new Map<string, Ban>();
  /** Every record written, in order of writing (superseded ones until the log is compacted). */
  private log: Ban[] = [];
  /** `logMaxMs[i]`: the latest `updatedAtMs` of `log[0..i]`, non-decreasing, for a binary search. */
  private logMaxMs: number[] = [];
  private readonly maxRecords: number;
  private readonly historyRetentionMs: number;

  constructor(options: MemoryBanStoreOptions = {}) {
    this.maxRecords = checkSizeOption(options.maxRecords, 'MemoryBanStore: maxRecords', 100_000);
    this.historyRetentionMs = checkDurationOption(options.historyRetentionMs, 'MemoryBanStore: historyRetentionMs', DEFAULT_RETENTION_MS);
  }

  /** Number of records held. */
  get size(): number {
    return this.records.size;
  }

  put(ban: NewBan, nowMs: number): Promise<Ban>;
  put(ban: NewBan, nowMs: number, condition: PutCondition): Promise<Ban | null>;
  async put(ban: NewBan, nowMs: number, condition?: PutCondition): Promise<Ban | null> {
    const checked = checkNewBan(ban);
    checkTime(nowMs, 'nowMs');
    const expected = checkPutCondition(condition);
    const previous = this.records.get(checked.id);
    // Checked and written in one synchronous step: nothing runs in between.
    if (expected !== undefined && (previous?.version ?? null) !== expected.expectedVersion) return null;
    const blockCount = (previous?.blockCount ?? 0) + (checked.kind === 'temporary' ? 1 : 0);
    const stored: Ban = freeze({
      id: checked.id,
      target: Object.freeze({ ...checked.target }),
      kind: checked.kind,
      reason: checked.reason,
      source: checked.source,
      createdBy: checked.createdBy,
      createdAtMs: nowMs,
      ...(checked.expiresAtMs === undefined ? {} : { expiresAtMs: checked.expiresAtMs }),
      violationCount: checked.violationCount,
      blockCount,
      updatedAtMs: nowMs,
      version: (previous?.version ?? 0) + 1,
    });
    this.write(stored, nowMs);
    return stored;
  }

  async lift(target: BanTarget, by: string, nowMs: number, options: { forgetBlocks?: boolean } = {}): Promise<Ban | null> {
    const { id } = checkBanTarget(target);
    if (typeof by !== 'string' || by.length === 0) throw new TypeError(`by must be a non-empty string (who lifts the ban).`);
    checkTime(nowMs, 'nowMs');
    const previous = this.records.get(id);
    if (previous === undefined) return null;
    if (previous.liftedAtMs !== undefined && !options.forgetBlocks) return previous;
    const lifted = freeze({
      ...previous,
      ...(previous.liftedAtMs === undefined ? { liftedAtMs: nowMs, liftedBy: by } : {}),
      ...(options.forgetBlocks ? { blockCount: 0 } : {}),
      updatedAtMs: nowMs,
      version: (previous.version ?? 0) + 1,
    });
    this.write(lifted, nowMs);
    return lifted;
  }

  async get(target: BanTarget): Promise<Ban | null> {
    const { id } = checkBanTarget(target);
    return this.records.get(id) ?? null;
  }

  async list(filter: BanFilter, page: PageRequest): Promise<Page<Ban>> {
    const f = checkBanFilter(filter);
    const { limit, cursor } = checkPageRequest(page);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const matches: Ban[] = [];
    for (const ban of this.records.values()) {
      if (!banMatchesFilter(ban, f)) continue;
      if (after !== undefined && !(ban.updatedAtMs < after.ms || (ban.updatedAtMs === after.ms && ban.id < after.id))) continue;
      matches.push(ban);
    }
    // Newest change first, then id descending: the order of the Mongo store's index.
    matches.sort((a, b) => b.updatedAtMs - a.updatedAtMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const items = matches.slice(0, limit);
    const last = items[items.length - 1];
    return matches.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(last.updatedAtMs, last.id) } : { items };
  }

  async changedSince(sinceMs: number, limit: number): Promise<readonly Ban[]> {
    checkChangedSince(sinceMs, limit);
    // Nothing before the first entry whose running latest time reaches `sinceMs` is recent enough.
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.logMaxMs[middle]! >= sinceMs) high = middle;
      else low = middle + 1;
    }
    const changed: Ban[] = [];
    for (let i = low; i < this.log.length; i++) {
      const ban = this.log[i]!;
      // Only the record's current state (a superseded or removed one is skipped).
      if (ban.updatedAtMs >= sinceMs && this.records.get(ban.id) === ban) changed.push(ban);
    }
    changed.sort((a, b) => a.updatedAtMs - b.updatedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return changed.slice(0, limit);
  }

  async *streamActive(nowMs: number, batchSize: number): AsyncIterable<readonly Ban[]> {
    checkTime(nowMs, 'nowMs');
    checkSizeOption(batchSize, 'batchSize', 1);
    let batch: Ban[] = [];
    // A Map's iterator survives writes between batches: a record rewritten meanwhile comes again.
    for (const ban of this.records.values()) {
      if (!isBanActive(ban, nowMs)) continue;
      batch.push(ban);
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async remove(target: BanTarget): Promise<boolean> {
    const { id } = checkBanTarget(target);
    return this.records.delete(id);
  }

  /** Drops everything. */
  clear(): void {
    this.records.clear();
    this.log = [];
    this.logMaxMs = [];
  }

  /** When a record may be forgotten: `historyRetentionMs` after it ended; never while it is in force without end. */
  private purgeAtMs(ban: Ban): number {
    if (ban.liftedAtMs !== undefined) return Math.max(ban.liftedAtMs, ban.expiresAtMs ?? -Infinity) + this.historyRetentionMs;
    if (ban.kind === 'temporary' && ban.expiresAtMs !== undefined) return ban.expiresAtMs + this.historyRetentionMs;
    return Infinity;
  }

  private write(ban: Ban, nowMs: number): void {
    const previous = this.records.get(ban.id);
    // Re-inserted at the end: the map stays in order of last change.
    this.records.delete(ban.id);
    this.records.set(ban.id, ban);
    let examined = 0;
    for (const [id, record] of this.records) {
      if (++examined > SWEEP_PER_CALL) break;
      if (id !== ban.id && this.purgeAtMs(record) <= nowMs) this.records.delete(id);
    }
    while (this.records.size > this.maxRecords) {
      if (this.evictOne(ban.id, nowMs)) continue;
      // Every other record is an operator's ban in force: refuse the write rather than drop one.
      this.records.delete(ban.id);
      if (previous !== undefined) this.records.set(ban.id, previous);
      throw new RangeError(
        `MemoryBanStore: the store holds maxRecords (${this.maxRecords}) records, each an operator's ban in force; lift some, or raise maxRecords.`,
      );
    }
    this.appendToLog(ban);
  }

  /**
   * Evicts one record other than `keepId` (the one just written): an ended one among the least
   * recently changed, else the least recently changed automatic one. Never an operator's ban in
   * force. False when there is none to evict.
   */
  private evictOne(keepId: string, nowMs: number): boolean {
    let examined = 0;
    let oldestAuto: string | undefined;
    for (const [id, record] of this.records) {
      if (id === keepId) continue;
      const active = isBanActive(record, nowMs);
      if (!active) {
        this.records.delete(id);
        return true;
      }
      if (record.source !== 'admin') oldestAuto ??= id;
      // Past the first few, only an automatic record is looked for.
      if (++examined >= EVICTION_SCAN && oldestAuto !== undefined) break;
    }
    if (oldestAuto === undefined) return false;
    this.records.delete(oldestAuto);
    return true;
  }

  private appendToLog(ban: Ban): void {
    const last = this.logMaxMs.length === 0 ? -Infinity : this.logMaxMs[this.logMaxMs.length - 1]!;
    this.log.push(ban);
    this.logMaxMs.push(Math.max(last, ban.updatedAtMs));
    // Compacted once superseded entries outnumber the records: amortised O(1) per write.
    if (this.log.length > 2 * this.records.size + 1_024) {
      this.log = [...this.records.values()];
      let running = -Infinity;
      this.logMaxMs = this.log.map((record) => (running = Math.max(running, record.updatedAtMs)));
    }
  }
}

function freeze<T extends object>(value: T): T {
  return Object.freeze(value);
}
