import type { AccessListEntry, AccessListKind, AccessListStore } from './access-list-store.interface.js';
import {
  canonicalCidr,
  checkAccessKind,
  checkAccessListEntry,
  checkChangedSince,
  checkDurationOption,
  checkSizeOption,
  checkTime,
  DEFAULT_RETENTION_MS,
  type NewAccessListEntry,
} from './store-input.js';

/** Options of the in-memory access list. */
export interface MemoryAccessListStoreOptions {
  /**
   * Most entries kept, removed ones included. Past it the oldest removed or expired entry is
   * dropped; when every entry is in force, `put` of a new entry fails instead.
   * @default 10_000
   */
  maxEntries?: number;
  /**
   * How long a removed or expired entry is kept (removals reach other caches through
   * `changedSince`) after it ended.
   * @default 2_592_000_000 (30 days)
   */
  historyRetentionMs?: number;
}

/**
 * Allow- and deny-list entries of one process. CIDRs are stored canonical (`10.0.0.1` is
 * `10.0.0.1/32`); a range with host bits set, such as `10.0.0.5/8`, is refused with a RangeError
 * naming the network to write instead. No timer: ended entries are dropped on later writes.
 */
export class MemoryAccessListStore implements AccessListStore {
  private readonly entries = new Map<string, AccessListEntry>();
  private readonly maxEntries: number;
  private readonly historyRetentionMs: number;

  constructor(options: MemoryAccessListStoreOptions = {}) {
    this.maxEntries = checkSizeOption(options.maxEntries, 'MemoryAccessListStore: maxEntries', 10_000);
    this.historyRetentionMs = checkDurationOption(options.historyRetentionMs, 'MemoryAccessListStore: historyRetentionMs', DEFAULT_RETENTION_MS);
  }

  /** Number of entries held, removed ones included. */
  get size(): number {
    return this.entries.size;
  }

  async put(entry: NewAccessListEntry, nowMs: number): Promise<AccessListEntry> {
    const { id, ...fields } = checkAccessListEntry(entry);
    checkTime(nowMs, 'nowMs');
    const stored: AccessListEntry = Object.freeze({ ...fields, updatedAtMs: nowMs });
    this.entries.delete(id);
    this.entries.set(id, stored);
    if (this.entries.size > this.maxEntries) this.dropEnded(id, nowMs);
    return stored;
  }

  async remove(kind: AccessListKind, cidr: string, nowMs: number): Promise<boolean> {
    const id = `${checkAccessKind(kind)}:${canonicalCidr(cidr)}`;
    checkTime(nowMs, 'nowMs');
    const previous = this.entries.get(id);
    if (previous === undefined || previous.removedAtMs !== undefined) return false;
    this.entries.delete(id);
    this.entries.set(id, Object.freeze({ ...previous, removedAtMs: nowMs, updatedAtMs: nowMs }));
    return true;
  }

  async list(kind?: AccessListKind): Promise<readonly AccessListEntry[]> {
    if (kind !== undefined) checkAccessKind(kind);
    const out: Array<[string, AccessListEntry]> = [];
    for (const [id, entry] of this.entries) {
      if (entry.removedAtMs === undefined && (kind === undefined || entry.kind === kind)) out.push([id, entry]);
    }
    // By id (`<kind>:<cidr>`), as the Mongo store lists them.
    out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return out.map(([, entry]) => entry);
  }

  async changedSince(sinceMs: number, limit: number): Promise<readonly AccessListEntry[]> {
    checkChangedSince(sinceMs, limit);
    const changed: Array<[string, AccessListEntry]> = [];
    for (const [id, entry] of this.entries) if (entry.updatedAtMs >= sinceMs) changed.push([id, entry]);
    changed.sort(([a, x], [b, y]) => x.updatedAtMs - y.updatedAtMs || (a < b ? -1 : a > b ? 1 : 0));
    return changed.slice(0, limit).map(([, entry]) => entry);
  }

  /** Drops everything. */
  clear(): void {
    this.entries.clear();
  }

  /**
   * Makes room: first entries past their history retention, then the least recently changed removed
   * or expired one. Refuses the put (undoing it) when every other entry is in force.
   */
  private dropEnded(keepId: string, nowMs: number): void {
    let candidate: string | undefined;
    for (const [id, entry] of this.entries) {
      if (id === keepId) continue;
      let endedAtMs = entry.removedAtMs ?? Infinity;
      if (entry.expiresAtMs !== undefined && entry.expiresAtMs <= nowMs) endedAtMs = Math.min(endedAtMs, entry.expiresAtMs);
      if (endedAtMs === Infinity) continue;
      if (endedAtMs + this.historyRetentionMs <= nowMs) this.entries.delete(id);
      else candidate ??= id;
    }
    if (this.entries.size <= this.maxEntries) return;
    if (candidate !== undefined) {
      this.entries.delete(candidate);
      return;
    }
    this.entries.delete(keepId);
    throw new RangeError(`MemoryAccessListStore: the access list holds maxEntries (${this.maxEntries}) entries in force; remove some, or raise maxEntries.`);
  }
}
