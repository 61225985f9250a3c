import type { Page, PageRequest } from './ban-store.interface.js';
import {
  checkDurationOption,
  checkKey,
  checkPageRequest,
  checkSizeOption,
  checkTime,
  checkViolation,
  checkViolationFilter,
  decodeCursor,
  DEFAULT_RETENTION_MS,
  encodeCursor,
} from './store-input.js';
import type { Violation, ViolationFilter, ViolationStore } from './violation-store.interface.js';

/** Options of the in-memory violation store. */
export interface MemoryViolationStoreOptions {
  /**
   * Most violations kept. Past it the oldest are dropped, so memory stays bounded whatever the
   * number of offenders.
   * @default 100_000
   */
  maxEvents?: number;
  /**
   * How long a violation is kept: events older than this, counted back from the newest one
   * recorded, are dropped as new ones arrive.
   * @default 2_592_000_000 (30 days)
   */
  retentionMs?: number;
}

interface Stored {
  readonly violation: Violation;
  /** Arrival order: breaks ties between violations of the same millisecond. */
  readonly seq: number;
}

/** Orders by time, then arrival. */
function before(a: Stored, b: Stored): boolean {
  return a.violation.atMs < b.violation.atMs || (a.violation.atMs === b.violation.atMs && a.seq < b.seq);
}

/**
 * Violations in (time, arrival) order with O(1) removal of the oldest: dropped items are skipped by
 * an offset and the array is compacted once half of it is dropped.
 */
class Timeline {
  private items: Stored[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  first(): Stored | undefined {
    return this.items[this.head];
  }

  /** Item `i` counted from the oldest. */
  at(i: number): Stored {
    return this.items[this.head + i]!;
  }

  /** Inserts in order: an append unless the violation is older than the newest one held. */
  insert(item: Stored): void {
    let i = this.items.length;
    if (i > this.head && before(item, this.items[i - 1]!)) {
      let lo = this.head;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(this.items[mid]!, item)) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    this.items.splice(i, 0, item);
  }

  dropFirst(): Stored | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.items[this.head++] = undefined as unknown as Stored;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Index (from the oldest) of the first item at or after `ms`. */
  firstAtOrAfter(ms: number): number {
    return this.search((atMs) => atMs < ms);
  }

  /** Index (from the oldest) of the first item after `ms`. */
  firstAfter(ms: number): number {
    return this.search((atMs) => atMs <= ms);
  }

  /** Index of the first item for which `isBefore` (monotonic over the order) is false. */
  private search(isBefore: (atMs: number) => boolean): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isBefore(this.items[mid]!.violation.atMs)) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }

  /** Keeps only the items `keep` accepts. */
  retain(keep: (item: Stored) => boolean): void {
    this.items = this.items.slice(this.head).filter(keep);
    this.head = 0;
  }
}

/**
 * Violation history of one process, bounded by `maxEvents` and `retentionMs`, with a per-key index
 * so that `count` (asked on every violation by the escalation policy) is a binary search. No timer.
 */
export class MemoryViolationStore implements ViolationStore {
  private readonly all = new Timeline();
  private readonly byKey = new Map<string, Timeline>();
  private readonly maxEvents: number;
  private readonly retentionMs: number;
  private seq = 0;
  private newestAtMs = -Infinity;

  constructor(options: MemoryViolationStoreOptions = {}) {
    this.maxEvents = checkSizeOption(options.maxEvents, 'MemoryViolationStore: maxEvents', 100_000);
    this.retentionMs = checkDurationOption(options.retentionMs, 'MemoryViolationStore: retentionMs', DEFAULT_RETENTION_MS);
  }

  /** Number of violations held. */
  get size(): number {
    return this.all.length;
  }

  async record(violation: Violation): Promise<void> {
    const item: Stored = { violation: Object.freeze(checkViolation(violation)), seq: ++this.seq };
    this.all.insert(item);
    let timeline = this.byKey.get(item.violation.key);
    if (timeline === undefined) this.byKey.set(item.violation.key, (timeline = new Timeline()));
    timeline.insert(item);

    this.newestAtMs = Math.max(this.newestAtMs, item.violation.atMs);
    const cutoff = this.newestAtMs - this.retentionMs;
    while (this.all.length > 0 && this.all.first()!.violation.atMs < cutoff) this.dropOldest();
    while (this.all.length > this.maxEvents) this.dropOldest();
  }

  async list(filter: ViolationFilter, page: PageRequest): Promise<Page<Violation>> {
    const f = checkViolationFilter(filter);
    const { limit, cursor } = checkPageRequest(page);
    const after = cursor === undefined ? undefined : decodeSeqCursor(cursor);
    const timeline = f.key === undefined ? this.all : this.byKey.get(f.key);
    const picked: Stored[] = [];
    let more = false;
    if (timeline !== undefined) {
      // Newest first: walk back from the upper bound (exclusive `toMs`, or the cursor's position).
      let upper = timeline.length;
      if (f.toMs !== undefined) upper = timeline.firstAtOrAfter(f.toMs);
      if (after !== undefined) upper = Math.min(upper, timeline.firstAfter(after.atMs));
      for (let i = upper - 1; i >= 0; i--) {
        const item = timeline.at(i);
        if (f.fromMs !== undefined && item.violation.atMs < f.fromMs) break;
        if (after !== undefined && item.violation.atMs === after.atMs && item.seq >= after.seq) continue;
        if (f.rule !== undefined && item.violation.rule !== f.rule) continue;
        if (picked.length === limit) {
          more = true;
          break;
        }
        picked.push(item);
      }
    }
    const items = picked.map((item) => item.violation);
    const last = picked[picked.length - 1];
    return more && last !== undefined ? { items, nextCursor: encodeCursor(last.violation.atMs, String(last.seq)) } : { items };
  }

  async count(key: string, sinceMs: number): Promise<number> {
    checkKey(key);
    checkTime(sinceMs, 'sinceMs');
    const timeline = this.byKey.get(key);
    return timeline === undefined ? 0 : timeline.length - timeline.firstAtOrAfter(sinceMs);
  }

  async deleteByKey(key: string): Promise<number> {
    checkKey(key);
    const timeline = this.byKey.get(key);
    if (timeline === undefined) return 0;
    this.byKey.delete(key);
    this.all.retain((item) => item.violation.key !== key);
    return timeline.length;
  }

  async purge(beforeMs: number): Promise<number> {
    checkTime(beforeMs, 'beforeMs');
    let removed = 0;
    while (this.all.length > 0 && this.all.first()!.violation.atMs < beforeMs) {
      this.dropOldest();
      removed++;
    }
    return removed;
  }

  /** Drops everything. */
  clear(): void {
    this.all.retain(() => false);
    this.byKey.clear();
  }

  /** The oldest violation overall is also the oldest of its key. */
  private dropOldest(): void {
    const item = this.all.dropFirst();
    if (item === undefined) return;
    const timeline = this.byKey.get(item.violation.key);
    timeline?.dropFirst();
    if (timeline !== undefined && timeline.length === 0) this.byKey.delete(item.violation.key);
  }
}

function decodeSeqCursor(cursor: string): { atMs: number; seq: number } {
  const { ms, id } = decodeCursor(cursor);
  if (!/^\d{1,15}$/.test(id)) {
    throw new TypeError('page.cursor is not a cursor this store returned: pass the nextCursor of the previous page unchanged, or omit it for the first page.');
  }
  return { atMs: ms, seq: Number(id) };
}
