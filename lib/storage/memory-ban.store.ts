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
import { checkBanFilter, checkBanTarget, checkNewBan, checkPutCondition } from './ban-input.js';

/** Options of the in-memory ban store. */
export interface MemoryBanStoreOptions {
  /**
   * Most ban records kept. Past it the least recently changed record that is no longer in force is
   * dropped (the least recently changed one of all when every record is in force).
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
 * keeps the process alive.
 */
export class MemoryBanStore implements BanStore {
  private readonly records = new Map<string, Ban>();
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
      if (f.kind !== undefined && ban.kind !== f.kind) continue;
      if (f.source !== undefined && ban.source !== f.source) continue;
      if (f.ids !== undefined && !f.ids.includes(ban.id)) continue;
      if (f.activeAtMs !== undefined && !isBanActive(ban, f.activeAtMs)) continue;
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
    const changed = [...this.records.values()].filter((ban) => ban.updatedAtMs >= sinceMs);
    changed.sort((a, b) => a.updatedAtMs - b.updatedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return changed.slice(0, limit);
  }

  async remove(target: BanTarget): Promise<boolean> {
    const { id } = checkBanTarget(target);
    return this.records.delete(id);
  }

  /** Drops everything. */
  clear(): void {
    this.records.clear();
  }

  /** When a record may be forgotten: `historyRetentionMs` after it ended; never while it is in force without end. */
  private purgeAtMs(ban: Ban): number {
    if (ban.liftedAtMs !== undefined) return Math.max(ban.liftedAtMs, ban.expiresAtMs ?? -Infinity) + this.historyRetentionMs;
    if (ban.kind === 'temporary' && ban.expiresAtMs !== undefined) return ban.expiresAtMs + this.historyRetentionMs;
    return Infinity;
  }

  private write(ban: Ban, nowMs: number): void {
    // Re-inserted at the end: the map stays in order of last change.
    this.records.delete(ban.id);
    this.records.set(ban.id, ban);
    let examined = 0;
    for (const [id, record] of this.records) {
      if (++examined > SWEEP_PER_CALL) break;
      if (this.purgeAtMs(record) <= nowMs) this.records.delete(id);
    }
    while (this.records.size > this.maxRecords) this.evictOne(ban.id, nowMs);
  }

  /** Evicts one record other than `keepId` (the one just written). */
  private evictOne(keepId: string, nowMs: number): void {
    let examined = 0;
    let oldest: string | undefined;
    for (const [id, record] of this.records) {
      if (id === keepId) continue;
      oldest ??= id;
      if (++examined > EVICTION_SCAN) break;
      if (!isBanActive(record, nowMs)) {
        this.records.delete(id);
        return;
      }
    }
    if (oldest !== undefined) this.records.delete(oldest);
  }
}

function freeze<T extends object>(value: T): T {
  return Object.freeze(value);
}
