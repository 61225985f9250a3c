/** A ban is either time-limited (a block) or lasts until an operator lifts it. */
export type BanKind = 'temporary' | 'permanent';
/** Who created a ban: the escalation policy, an operator through the admin API, or DDoS detection. */
export type BanSource = 'auto' | 'admin' | 'ddos';

/**
 * What a ban matches: a client key (the tracker the guard computed: an address key such as
 * `203.0.113.7` or `2001:db8:1:2::/64`, or a custom identity such as a user id), or a CIDR range
 * matched against the client address.
 */
export type BanTarget = { readonly type: 'key'; readonly key: string } | { readonly type: 'cidr'; readonly cidr: string };

/** A ban as stored. Times are epoch milliseconds. One ban record per target. */
export interface Ban {
  /** Stable id: `key:<key>` or `cidr:<canonical cidr>`. */
  readonly id: string;
  readonly target: BanTarget;
  readonly kind: BanKind;
  readonly reason: string;
  readonly source: BanSource;
  /** Operator (admin bans) or `rampart` (automatic ones). */
  readonly createdBy: string;
  readonly createdAtMs: number;
  /** End of a temporary ban; absent for permanent ones. */
  readonly expiresAtMs?: number;
  /** Violations recorded for the target when the ban was made. */
  readonly violationCount: number;
  /** Temporary blocks applied to this target so far (drives the growing block duration). */
  readonly blockCount: number;
  /** Set when an operator lifted the ban; the record stays as history. */
  readonly liftedAtMs?: number;
  readonly liftedBy?: string;
  /** Last change, for propagation to other instances. */
  readonly updatedAtMs: number;
  /**
   * Incremented by every write of the record (put, lift, forgetting its blocks): what a conditional
   * `put` compares. Absent on a record written before records carried one.
   */
  readonly version?: number;
}

/** Whether a ban is in force at `nowMs`. */
export function isBanActive(ban: Ban, nowMs: number): boolean {
  if (ban.liftedAtMs !== undefined) return false;
  return ban.kind === 'permanent' || (ban.expiresAtMs !== undefined && ban.expiresAtMs > nowMs);
}

export interface NewBan {
  readonly target: BanTarget;
  readonly kind: BanKind;
  readonly reason: string;
  readonly source: BanSource;
  readonly createdBy: string;
  /** Required for temporary bans. */
  readonly expiresAtMs?: number;
  readonly violationCount: number;
}

export interface BanFilter {
  readonly kind?: BanKind;
  readonly source?: BanSource;
  /** Exact key, or exact CIDR, of the target. */
  readonly target?: string;
  /** Only bans in force at this time (default: every record, lifted and expired included). */
  readonly activeAtMs?: number;
}

/** A page of results; `nextCursor` is absent on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

export interface PageRequest {
  /** 1..500. */
  readonly limit: number;
  readonly cursor?: string;
}

/**
 * The precondition of a conditional `put` (a compare-and-set on the target's record), for a
 * decision made from a record read earlier.
 */
export interface PutCondition {
  /**
   * The `version` of the record the decision was made from: `null` when there was no record (or a
   * record without `version`), so the put applies only if there still is none; a number, so it
   * applies only if the record is still at that version.
   */
  readonly expectedVersion: number | null;
}

/** Durable ban records, shared by every instance. */
export interface BanStore {
  /**
   * Creates or replaces the ban of `ban.target` at `nowMs`. A temporary ban increments the
   * target's `blockCount`; every put clears `liftedAtMs` and increments `version`.
   *
   * With a `condition`, the put is one atomic compare-and-set: it applies only if the target's
   * record is still as `condition.expectedVersion` says, and resolves `null` (nothing written)
   * when it is not.
   */
  put(ban: NewBan, nowMs: number): Promise<Ban>;
  put(ban: NewBan, nowMs: number, condition: PutCondition): Promise<Ban | null>;
  /**
   * Lifts the ban of `target` (it stays as a lifted record, so that other instances see the lift).
   * With `forgetBlocks`, its `blockCount` is reset to 0 too (even when it was already lifted), so
   * the next block is a first one again. Each change increments `version`. `null` when there is no
   * record.
   */
  lift(target: BanTarget, by: string, nowMs: number, options?: { forgetBlocks?: boolean }): Promise<Ban | null>;
  /** The record of `target`, active or not; `null` when there is none. */
  get(target: BanTarget): Promise<Ban | null>;
  list(filter: BanFilter, page: PageRequest): Promise<Page<Ban>>;
  /** Every record changed at or after `sinceMs`, oldest first (for cache propagation). */
  changedSince(sinceMs: number, limit: number): Promise<readonly Ban[]>;
  /**
   * Every ban in force at `nowMs`, in batches of at most `batchSize`, in no particular order, read
   * in one pass (a cursor, not pages of queries): what a full reload of the caches reads. A record
   * changed during the pass may come twice or not at all (`changedSince` shows it). Optional: a
   * store without it is listed by `list` pages.
   */
  streamActive?(nowMs: number, batchSize: number): AsyncIterable<readonly Ban[]>;
  /** Forgets the target's record entirely, including its block count. */
  remove(target: BanTarget): Promise<boolean>;
}
