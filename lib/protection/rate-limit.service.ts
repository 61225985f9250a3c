import type { Clock } from '../core/clock.js';
import { DEFAULT_ESCALATION_POLICY, type EscalationPolicy } from '../core/escalation.js';
import type { ConsumeResult } from '../core/rule-decision.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { RAMPART_EVENTS } from '../events/rate-limit-events.js';
import type { RampartEngine } from '../engine/rampart-engine.js';
import { namedClientKey, shadowMark } from '../engine/store-keys.js';
import type { TargetRule } from '../engine/target-rules.js';
import type { AccessListEntry, AccessListKind } from '../storage/access-list-store.interface.js';
import type { Ban, BanFilter, BanKind, BanTarget, Page, PageRequest } from '../storage/ban-store.interface.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import type { RateLimitStore } from '../storage/rate-limit-store.interface.js';
import type { Violation, ViolationFilter } from '../storage/violation-store.interface.js';
import { announceBan } from './ban-announcer.js';
import type { BanSync } from './ban-sync.js';
import type { ProtectionVerdict } from './protection-verdict.js';
import { assertNarrowRange } from './wide-range.js';

/** What is known about one client key. */
export interface ClientStatus {
  readonly key: string;
  /** What a request would meet now, from this instance's cache. */
  readonly verdict: ProtectionVerdict;
  /** The key's ban record, active or not (it carries the block count); null when none. */
  readonly ban: Ban | null;
  /** Violations within the module's `permanentBanWindowMs` (24 h by default). */
  readonly recentViolations: number;
}

/** One rule's live counter for a client, read without counting. */
export interface ClientCounter {
  readonly rule: TargetRule<never>;
  readonly result: ConsumeResult;
}

export interface RateLimitServiceParts {
  readonly storage: RampartStorage;
  readonly store: RateLimitStore;
  readonly clock: Clock;
  readonly escalation: EscalationPolicy | false;
  readonly bans: BanSync;
  readonly events: EventPublisher;
  readonly engine: RampartEngine<never>;
}

/**
 * What operators and apps do with Rampart: ban and unban clients or address ranges, see a client's
 * status, manage the allow and deny lists, and read the records. Changes made here are enforced on
 * this instance at once and on every other within the ban sync bound. The admin API is built on it.
 *
 * Client keys are named as stored (`198.51.100.7` an address, `user-42` an identity), and
 * `id:<identity>` names an identity whatever its text (`id:198.51.100.7`, see `namedClientKey`).
 */
export class RateLimitService {
  constructor(private readonly parts: RateLimitServiceParts) {}

  /** The configured clock's time (epoch ms). */
  now(): number {
    return this.parts.clock.now();
  }

  /**
   * Bans a client key or an address range. A temporary ban (`durationMs`) is a block and counts
   * towards the target's block count; a permanent one lasts until `unban`. A range wider than /8
   * (IPv4) or /32 (IPv6), such as `0.0.0.0/0`, is refused unless `options.force` is true.
   *
   * @throws the store's TypeError or RangeError for a malformed target (a CIDR with host bits set...);
   *   RangeError for a range too wide without `force`
   */
  async ban(named: BanTarget, kind: BanKind, durationMs: number | undefined, reason: string, by: string, options: { force?: boolean } = {}): Promise<Ban> {
    const { storage, bans, events } = this.parts;
    const target = storedTarget(named);
    const nowMs = this.now();
    if (kind === 'temporary' && !(typeof durationMs === 'number' && Number.isFinite(durationMs) && durationMs > 0)) {
      throw new RangeError(`durationMs must be a positive number of milliseconds for a temporary ban, got ${String(durationMs)}.`);
    }
    if (target.type === 'cidr') assertNarrowRange(target.cidr, options.force, 'target.cidr');
    const violationCount = target.type === 'key' ? await storage.violations.count(target.key, 0) : 0;
    const ban = await storage.bans.put(
      {
        target,
        kind,
        reason,
        source: 'admin',
        createdBy: by,
        ...(kind === 'temporary' ? { expiresAtMs: nowMs + (durationMs as number) } : {}),
        violationCount,
      },
      nowMs,
    );
    bans.applyBan(ban, nowMs);
    announceBan(events, ban, nowMs);
    return ban;
  }

  /**
   * Lifts the ban of `target`; every instance sees the lift within the sync bound. With
   * `clearHistory`, the key's violations are deleted and its block count forgotten too, so the
   * client starts afresh.
   *
   * @returns the lifted record; null when the target had none
   */
  async unban(named: BanTarget, by: string, clearHistory = false): Promise<Ban | null> {
    const nowMs = this.now();
    const target = storedTarget(named);
    const { bans, violations } = this.parts.storage;
    // The record stays (lifted, and with its block count forgotten when clearing history) so that
    // every other instance sees the lift at its next poll.
    const lifted = await bans.lift(target, by, nowMs, { forgetBlocks: clearHistory });
    if (lifted) this.parts.bans.applyBan(lifted, nowMs);
    if (clearHistory && target.type === 'key') await violations.deleteByKey(target.key);
    this.parts.events.publish(RAMPART_EVENTS.unban, { target, by, ban: lifted, clearHistory, atMs: nowMs, ...shadowMark(target) });
    return lifted;
  }

  /** What is known about a client key: the cached verdict, its ban record and its recent violations. */
  async status(named: string, address: string | null = null): Promise<ClientStatus> {
    const nowMs = this.now();
    const key = namedClientKey(named);
    const { storage, escalation, bans } = this.parts;
    const windowMs = (escalation || DEFAULT_ESCALATION_POLICY).permanentBanWindowMs;
    const [ban, recentViolations] = await Promise.all([storage.bans.get({ type: 'key', key }), storage.violations.count(key, nowMs - windowMs)]);
    return { key, verdict: await bans.check(key, address, nowMs), ban, recentViolations };
  }

  /**
   * Adds or replaces an allow- or deny-list entry (an address or a CIDR range). Allow-listed
   * clients skip every rule and ban; deny-listed ones are refused. A range wider than /8 (IPv4) or
   * /32 (IPv6), such as `::/0`, is refused unless `options.force` is true.
   *
   * @throws RangeError for a range too wide without `force`; the store's TypeError or RangeError for a malformed one
   */
  async putAccessEntry(
    kind: AccessListKind,
    cidr: string,
    by: string,
    options: { note?: string; expiresAtMs?: number; force?: boolean } = {},
  ): Promise<AccessListEntry> {
    assertNarrowRange(cidr, options.force);
    const nowMs = this.now();
    const entry = await this.parts.storage.accessList.put(
      {
        kind,
        cidr,
        createdBy: by,
        createdAtMs: nowMs,
        ...(options.note !== undefined ? { note: options.note } : {}),
        ...(options.expiresAtMs !== undefined ? { expiresAtMs: options.expiresAtMs } : {}),
      },
      nowMs,
    );
    this.parts.bans.applyEntry(entry, nowMs);
    return entry;
  }

  /** Removes an allow- or deny-list entry; false when there was none. */
  async removeAccessEntry(kind: AccessListKind, cidr: string): Promise<boolean> {
    const removed = await this.parts.storage.accessList.remove(kind, cidr, this.now());
    if (removed) await this.syncNow();
    return removed;
  }

  /**
   * Fetches ban and allow/deny-list changes made by other instances now, rather than at the next
   * poll. Resolves once every write that finished before the call is enforced here.
   */
  syncNow(): Promise<void> {
    return this.parts.bans.syncNow();
  }

  /** A page of ban records (in force or not). */
  listBans(filter: BanFilter, page: PageRequest): Promise<Page<Ban>> {
    const named = filter.target === undefined ? filter : { ...filter, target: namedClientKey(filter.target) };
    return this.parts.storage.bans.list(named, page);
  }

  /** The ban record of a target, in force or not; null when it has none. */
  getBan(target: BanTarget): Promise<Ban | null> {
    return this.parts.storage.bans.get(storedTarget(target));
  }

  /** A page of recorded violations, newest first. */
  listViolations(filter: ViolationFilter, page: PageRequest): Promise<Page<Violation>> {
    const named = filter.key === undefined ? filter : { ...filter, key: namedClientKey(filter.key) };
    return this.parts.storage.violations.list(named, page);
  }

  /** The allow- and deny-list entries (of one kind when given). */
  listAccessEntries(kind?: AccessListKind): Promise<readonly AccessListEntry[]> {
    return this.parts.storage.accessList.list(kind);
  }

  /**
   * The live counters of a client key under `rules`, read without counting, by the store keys
   * requests are counted with. Rules without live state are left out.
   */
  async counters(named: string, rules: readonly TargetRule<never>[]): Promise<ClientCounter[]> {
    const nowMs = this.now();
    const key = namedClientKey(named);
    const { engine, store } = this.parts;
    const results = await Promise.all(rules.map((rule) => store.get(safeStoreKey(engine, rule, key), rule.rule.storeRule, nowMs)));
    const counters: ClientCounter[] = [];
    results.forEach((result, i) => {
      if (result !== null) counters.push({ rule: rules[i]!, result });
    });
    return counters;
  }
}

/** A ban target as stored: a key named `id:<identity>` becomes that identity's key. */
function storedTarget(target: BanTarget): BanTarget {
  if (target.type !== 'key' || typeof target.key !== 'string') return target;
  const key = namedClientKey(target.key);
  return key === target.key ? target : { type: 'key', key };
}

/** The store key requests use; the default format when an adapter's hook needs a request to answer. */
export function safeStoreKey(engine: RampartEngine<never>, rule: TargetRule<never>, key: string): string {
  try {
    return engine.storeKey(rule, key);
  } catch {
    return engine.defaultStoreKey(rule, key);
  }
}
