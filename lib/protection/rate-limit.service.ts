import type { Clock } from '../core/clock.js';
import { DEFAULT_ESCALATION_POLICY, type EscalationPolicy } from '../core/escalation.js';
import type { ConsumeResult } from '../core/rule-decision.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { RAMPART_EVENTS } from '../events/rate-limit-events.js';
import type { RampartEngine } from '../engine/rampart-engine.js';
import type { TargetRule } from '../engine/target-rules.js';
import type { AccessListEntry, AccessListKind } from '../storage/access-list-store.interface.js';
import type { Ban, BanFilter, BanKind, BanTarget, Page, PageRequest } from '../storage/ban-store.interface.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import type { RateLimitStore } from '../storage/rate-limit-store.interface.js';
import type { Violation, ViolationFilter } from '../storage/violation-store.interface.js';
import { announceBan } from './ban-announcer.js';
import type { BanSync } from './ban-sync.js';
import type { ProtectionVerdict } from './protection-verdict.js';

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
 */
export class RateLimitService {
  constructor(private readonly parts: RateLimitServiceParts) {}

  /** The configured clock's time (epoch ms). */
  now(): number {
    return this.parts.clock.now();
  }

  /**
   * Bans a client key or an address range. A temporary ban (`durationMs`) is a block and counts
   * towards the target's block count; a permanent one lasts until `unban`.
   *
   * @throws the store's TypeError or RangeError for a malformed target (a CIDR with host bits set...)
   */
  async ban(target: BanTarget, kind: BanKind, durationMs: number | undefined, reason: string, by: string): Promise<Ban> {
    const { storage, bans, events } = this.parts;
    const nowMs = this.now();
    if (kind === 'temporary' && !(typeof durationMs === 'number' && Number.isFinite(durationMs) && durationMs > 0)) {
      throw new RangeError(`durationMs must be a positive number of milliseconds for a temporary ban, got ${String(durationMs)}.`);
    }
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
  async unban(target: BanTarget, by: string, clearHistory = false): Promise<Ban | null> {
    const nowMs = this.now();
    const { bans, violations } = this.parts.storage;
    // The record stays (lifted, and with its block count forgotten when clearing history) so that
    // every other instance sees the lift at its next poll.
    const lifted = await bans.lift(target, by, nowMs, { forgetBlocks: clearHistory });
    if (lifted) this.parts.bans.applyBan(lifted, nowMs);
    if (clearHistory && target.type === 'key') await violations.deleteByKey(target.key);
    this.parts.events.publish(RAMPART_EVENTS.unban, { target, by, ban: lifted, clearHistory, atMs: nowMs });
    return lifted;
  }

  /** What is known about a client key: the cached verdict, its ban record and its recent violations. */
  async status(key: string, address: string | null = null): Promise<ClientStatus> {
    const nowMs = this.now();
    const { storage, escalation, bans } = this.parts;
    const windowMs = (escalation || DEFAULT_ESCALATION_POLICY).permanentBanWindowMs;
    const [ban, recentViolations] = await Promise.all([storage.bans.get({ type: 'key', key }), storage.violations.count(key, nowMs - windowMs)]);
    return { key, verdict: await bans.check(key, address, nowMs), ban, recentViolations };
  }

  /**
   * Adds or replaces an allow- or deny-list entry (an address or a CIDR range). Allow-listed
   * clients skip every rule and ban; deny-listed ones are refused.
   */
  async putAccessEntry(kind: AccessListKind, cidr: string, by: string, options: { note?: string; expiresAtMs?: number } = {}): Promise<AccessListEntry> {
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
    return this.parts.storage.bans.list(filter, page);
  }

  /** The ban record of a target, in force or not; null when it has none. */
  getBan(target: BanTarget): Promise<Ban | null> {
    return this.parts.storage.bans.get(target);
  }

  /** A page of recorded violations, newest first. */
  listViolations(filter: ViolationFilter, page: PageRequest): Promise<Page<Violation>> {
    return this.parts.storage.violations.list(filter, page);
  }

  /** The allow- and deny-list entries (of one kind when given). */
  listAccessEntries(kind?: AccessListKind): Promise<readonly AccessListEntry[]> {
    return this.parts.storage.accessList.list(kind);
  }

  /**
   * The live counters of a client key under `rules`, read without counting, by the store keys
   * requests are counted with. Rules without live state are left out.
   */
  async counters(key: string, rules: readonly TargetRule<never>[]): Promise<ClientCounter[]> {
    const nowMs = this.now();
    const { engine, store } = this.parts;
    const results = await Promise.all(rules.map((rule) => store.get(safeStoreKey(engine, rule, key), rule.rule.storeRule, nowMs)));
    const counters: ClientCounter[] = [];
    results.forEach((result, i) => {
      if (result !== null) counters.push({ rule: rules[i]!, result });
    });
    return counters;
  }
}

/** The store key requests use; the default format when an adapter's hook needs a request to answer. */
function safeStoreKey(engine: RampartEngine<never>, rule: TargetRule<never>, key: string): string {
  try {
    return engine.storeKey(rule, key);
  } catch {
    return engine.defaultStoreKey(rule, key);
  }
}
