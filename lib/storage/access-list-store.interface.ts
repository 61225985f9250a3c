/** Allow-listed clients skip every rule; deny-listed ones get 403. */
export type AccessListKind = 'allow' | 'deny';

/** One allow- or deny-list entry: a single address or a CIDR range, IPv4 or IPv6. */
export interface AccessListEntry {
  /** Canonical CIDR (`203.0.113.7/32`, `2001:db8::/48`). */
  readonly cidr: string;
  readonly kind: AccessListKind;
  readonly note?: string;
  readonly createdBy: string;
  readonly createdAtMs: number;
  /** Optional end; absent means until removed. */
  readonly expiresAtMs?: number;
  /** Set when removed (kept so that other instances see the removal). */
  readonly removedAtMs?: number;
  readonly updatedAtMs: number;
}

/** Allow- and deny-list entries, shared by every instance. */
export interface AccessListStore {
  /** Creates or replaces the entry of (`kind`, `cidr`). */
  put(entry: Omit<AccessListEntry, 'updatedAtMs' | 'removedAtMs'>, nowMs: number): Promise<AccessListEntry>;
  /** Marks the entry removed; `false` when there was none. */
  remove(kind: AccessListKind, cidr: string, nowMs: number): Promise<boolean>;
  /** Entries not removed (expired ones included), for listing. */
  list(kind?: AccessListKind): Promise<readonly AccessListEntry[]>;
  /** Every entry changed at or after `sinceMs` (removed ones included), for cache propagation. */
  changedSince(sinceMs: number, limit: number): Promise<readonly AccessListEntry[]>;
}
