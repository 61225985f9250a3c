import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { decideEscalation, DEFAULT_ESCALATION_POLICY, type EscalationPolicy } from '../core/escalation.js';
import * as messages from '../errors/messages.js';
import { RAMPART_EVENTS } from '../events/rate-limit-events.js';
import { RateLimitEventsPublisher } from '../events/rate-limit-events.publisher.js';
import type { RateLimitConfig } from '../rate-limit.config.js';
import { RATE_LIMIT_CONFIG } from '../rate-limit.constants.js';
import type { AccessListEntry, AccessListKind } from '../storage/access-list-store.interface.js';
import { isBanActive, type Ban, type BanKind, type BanTarget, type NewBan } from '../storage/ban-store.interface.js';
import type { Violation } from '../storage/violation-store.interface.js';
import { entryId, ProtectionCache } from './protection-cache.js';
import { NO_OUTCOME, outcomeOfBan, type ProtectionVerdict, type ViolationOutcome } from './protection-verdict.js';
import { StorageSetupError } from '../storage/storage-setup.error.js';
import type { StoreRule } from '../core/rule-decision.js';
import { STORAGE_STEP_TIMEOUT_FACTOR, StoreHealth, withTimeout } from './store-health.js';

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
/** Violations older than `violationRetentionMs` are purged this often. */
export const PURGE_INTERVAL_MS = 3_600_000;
/** Records fetched per `changedSince` call. */
const CHANGES_PAGE = 1_000;
/** Bans listed per page by a full reload. */
const LIST_PAGE = 500;
/** Name written as `createdBy` on automatic blocks and bans. */
const AUTO_CREATOR = 'rampart';
/**
 * What the probe of a store that is down counts, as a request would (a write, so that a store that
 * answers reads but not writes stays down): a key no client can have (client keys start with a
 * rule name and ':'), under a limit it never reaches (no second command to give a denial back).
 */
export const PROBE_KEY = ':rampart-probe';
const PROBE_RULE: StoreRule = Object.freeze({ name: 'probe', algorithm: 'fixed-window', limit: 1_000_000_000, windowMs: 1_000, blockDurationMs: 0 });
/** Violations held in memory while the store is down, written when it is back. */
export const MAX_HELD_VIOLATIONS = 10_000;
/**
 * Violations of one key waiting for their turn on this instance. A key that violates faster than
 * its violations can be written (a storage that has become slow) has the rest held instead.
 */
export const MAX_QUEUED_PER_KEY = 16;

/** A request denied by a rule's algorithm, as the guard reports it: the violation to store, at `nowMs`. */
export interface ViolationReport extends Omit<Violation, 'atMs'> {
  readonly address: string | null;
  readonly nowMs: number;
  /** The rule's escalation policy; false to only announce the violation (no record, no escalation). */
  readonly escalation: EscalationPolicy | false;
}

/** What the admin API shows about one client key. */
export interface ClientStatus {
  readonly key: string;
  /** What the guard would answer now from its cache. */
  readonly verdict: ProtectionVerdict;
  /** The key's ban record, active or not (it carries the block count); null when none. */
  readonly ban: Ban | null;
  /** Violations within the module's `permanentBanWindowMs` (24 h by default). */
  readonly recentViolations: number;
}

/**
 * Allow/deny lists, bans and escalation for the guard, kept in an in-process cache so that the
 * guard's `check` costs no store round trip.
 *
 * The cache is loaded at startup, then kept in step with the other instances by polling
 * `changedSince(cursor - BAN_SYNC_OVERLAP_MS)` every `banSyncIntervalMs` on a timer that never keeps
 * the process alive. A change made on another instance is enforced here within
 * `banSyncIntervalMs` plus one store round trip (≤ 2 s with the defaults); changes made through
 * this service are enforced here at once.
 */
@Injectable()
export class ProtectionService implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly cache = new ProtectionCache();
  /**
   * One promise chain per client key, so one instance never escalates the same key twice at once:
   * its tail and how many violations wait in it. Removed when the chain runs dry.
   */
  private readonly pendingByKey = new Map<string, { tail: Promise<void>; queued: number }>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Local clock at the start of the last successful poll; undefined until the first full load. */
  private cursorMs: number | undefined;
  private lastFullReloadMs = -Infinity;
  private lastPurgeMs = -Infinity;
  /** The tail of the serialized polls. */
  private syncTail: Promise<void> = Promise.resolve();
  private polling = false;
  private stopped = false;
  /**
   * Local writes by record id, numbered: a poll never overrides a record written here after it
   * began (its read may predate the write). Reads are otherwise applied as they come, whatever the
   * records' timestamps, so a writer's clock never decides what is in force.
   */
  private writeSeq = 0;
  private readonly localWrites = new Map<string, number>();
  /** Whether the rate-limit store answers the guard's calls (logged and announced on each change). */
  readonly storeHealth: StoreHealth;
  /** Whether the storage's `init()` and the first load of bans and lists have succeeded. */
  private ready = false;
  /** The storage's preparation in flight (at startup, then retried by the timer until ready). */
  private preparing: Promise<void> | undefined;
  /** Last preparation failure logged, so that a retry failing the same way is not logged again. */
  private lastPrepareFailure: string | undefined;
  private startupAtMs = 0;
  /** Violations met while the store was down, written when it is back (at most MAX_HELD_VIOLATIONS). */
  private held: Violation[] = [];
  private droppedHeld = 0;
  private writingHeld = false;
  /** Longest wait for one storage call made off a request's path (escalation, polls, startup). */
  private readonly stepTimeoutMs: number;

  constructor(
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
    private readonly events: RateLimitEventsPublisher,
  ) {
    this.storeHealth = new StoreHealth(config.clock, events, config.storeFallback, {
      run: () => config.store.consume(PROBE_KEY, PROBE_RULE, config.clock.now(), 1),
      timeoutMs: config.storeTimeoutMs,
      intervalMs: config.storeProbeIntervalMs,
    });
    this.storeHealth.onUp(() => void this.writeHeldViolations());
    this.stepTimeoutMs = STORAGE_STEP_TIMEOUT_FACTOR * config.storeTimeoutMs;
  }

  /** A storage call off the request path, bounded so that a silent storage never stalls a queue for good. */
  private bounded<T>(call: () => Promise<T>): Promise<T> {
    return withTimeout(call, this.stepTimeoutMs);
  }

  /** Whether the storage is prepared and the stored bans and lists are loaded. */
  get storageReady(): boolean {
    return this.ready;
  }

  /**
   * Prepares the storage and loads the bans and lists, waiting at most `storeStartupTimeoutMs`.
   * When that is not enough, the app starts without the storage (requests are answered by the
   * outage policy) and the timer tries again until it is ready; with `requireStore`, startup fails.
   * A StorageSetupError (the database answered, but cannot be used as it is) met within that wait
   * fails startup; met later, it is logged and retried like any other failure, until it is fixed.
   */
  async onModuleInit(): Promise<void> {
    this.startupAtMs = Date.now();
    const { storeStartupTimeoutMs, requireStore } = this.config;
    try {
      await withTimeout(() => this.prepare(), storeStartupTimeoutMs);
    } catch (error) {
      const reason = errorText(error);
      if (error instanceof StorageSetupError) throw error;
      if (requireStore) throw new Error(messages.storageRequired(storeStartupTimeoutMs, reason), { cause: error });
      this.lastPrepareFailure = reason;
      this.logger.warn(messages.storageNotReady(storeStartupTimeoutMs, reason, this.config.banSyncIntervalMs, this.config.storeFallback));
      // Requests answer by the outage policy at once rather than each waiting for the timeout.
      this.storeHealth.failed(this.storeHealth.start(), error);
    }
    this.timer = setInterval(() => this.tick(), this.config.banSyncIntervalMs);
    this.timer.unref?.();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.storeHealth.stop();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs after the HTTP server has stopped taking requests. */
  async onApplicationShutdown(): Promise<void> {
    await this.config.storage.close?.();
  }

  /**
   * What to do with a client before any rule: allow-listed, deny-listed, banned, blocked or
   * nothing known. Synchronous and without store access.
   *
   * @param key the client key (tracker)
   * @param address the client address in canonical form, null when unknown
   */
  check(key: string, address: string | null, nowMs: number): ProtectionVerdict {
    return this.cache.check(key, address, nowMs);
  }

  /** Bans of a rule's own client key (from the rule's `keyResolver`). Synchronous, without store access. */
  checkKey(key: string, nowMs: number): ProtectionVerdict {
    return this.cache.checkKey(key, nowMs);
  }

  /**
   * Records a violation and applies the escalation policy: the violation is written to the
   * ViolationStore (retried once, then logged as an error line with the violation), the key's
   * recent violations are counted, and a block or a permanent ban is written when due, cached at
   * once and announced. Never throws: a store failure is logged and the request keeps its rule's
   * answer.
   *
   * Violations of one key are handled one after another on this instance; across instances, a
   * ban already in force in the store is adopted instead of escalating again.
   *
   * Resolves within `storeTimeoutMs`: a slower escalation goes on in the background (its block is
   * enforced as soon as it is written) while the request is answered by its rule alone. While the
   * store is down, the violation is held and written when the store is back.
   */
  recordViolation(report: ViolationReport): Promise<ViolationOutcome> {
    // The store is down: answer at once by the rule alone, and keep the violation for later.
    if (this.storeHealth.isDown) return Promise.resolve(this.holdViolation(report));
    const { key } = report;
    const chain = this.pendingByKey.get(key) ?? { tail: Promise.resolve(), queued: 0 };
    if (chain.queued >= MAX_QUEUED_PER_KEY) return Promise.resolve(this.holdViolation(report));
    const run = chain.tail.then(() => this.recordInTurn(report));
    chain.tail = run.then(
      () => undefined,
      () => undefined,
    );
    chain.queued++;
    this.pendingByKey.set(key, chain);
    void chain.tail.then(() => {
      if (--chain.queued === 0 && this.pendingByKey.get(key) === chain) this.pendingByKey.delete(key);
    });
    return withTimeout(() => run, this.config.storeTimeoutMs).catch(() => NO_OUTCOME);
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

  /**
   * Bans a client key or an address range, as an operator. A temporary ban (`durationMs`) is a
   * block and counts towards the target's block count; a permanent one lasts until `unban`.
   *
   * @throws the store's TypeError or RangeError for a malformed target (a CIDR with host bits set...)
   */
  async ban(target: BanTarget, kind: BanKind, durationMs: number | undefined, reason: string, by: string): Promise<Ban> {
    const nowMs = this.config.clock.now();
    if (kind === 'temporary' && !(typeof durationMs === 'number' && Number.isFinite(durationMs) && durationMs > 0)) {
      throw new RangeError(`durationMs must be a positive number of milliseconds for a temporary ban, got ${String(durationMs)}.`);
    }
    const violationCount = target.type === 'key' ? await this.config.storage.violations.count(target.key, 0) : 0;
    const ban = await this.config.storage.bans.put(
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
    this.applyLocally(ban, nowMs);
    this.announceBan(ban, nowMs);
    return ban;
  }

  /**
   * Lifts the ban of `target`, as an operator; every instance sees the lift within the sync bound.
   * With `clearHistory`, the key's violations are deleted and its block count forgotten too, so the
   * client starts afresh.
   *
   * @returns the lifted record; null when the target had none
   */
  async unban(target: BanTarget, by: string, clearHistory = false): Promise<Ban | null> {
    const nowMs = this.config.clock.now();
    const { bans, violations } = this.config.storage;
    // The record stays (lifted, and with its block count forgotten when clearing history) so that
    // every other instance sees the lift at its next poll.
    const lifted = await bans.lift(target, by, nowMs, { forgetBlocks: clearHistory });
    if (lifted) this.applyLocally(lifted, nowMs);
    if (clearHistory && target.type === 'key') await violations.deleteByKey(target.key);
    this.events.publish(RAMPART_EVENTS.unban, { target, by, ban: lifted, clearHistory, atMs: nowMs });
    return lifted;
  }

  /** What is known about a client key: the cached verdict, its ban record and its recent violations. */
  async status(key: string, address: string | null = null): Promise<ClientStatus> {
    const nowMs = this.config.clock.now();
    const windowMs = (this.config.escalation || DEFAULT_ESCALATION_POLICY).permanentBanWindowMs;
    const [ban, recentViolations] = await Promise.all([
      this.config.storage.bans.get({ type: 'key', key }),
      this.config.storage.violations.count(key, nowMs - windowMs),
    ]);
    return { key, verdict: this.cache.check(key, address, nowMs), ban, recentViolations };
  }

  /**
   * Adds or replaces an allow- or deny-list entry (an address or a CIDR range), as an operator.
   * Allow-listed clients skip every rule and ban; deny-listed ones get 403.
   */
  async putAccessEntry(kind: AccessListKind, cidr: string, by: string, options: { note?: string; expiresAtMs?: number } = {}): Promise<AccessListEntry> {
    const nowMs = this.config.clock.now();
    const entry = await this.config.storage.accessList.put(
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
    this.localWrites.set(entryId(entry), ++this.writeSeq);
    this.cache.applyEntry(entry, nowMs);
    return entry;
  }

  /** Removes an allow- or deny-list entry, as an operator; false when there was none. */
  async removeAccessEntry(kind: AccessListKind, cidr: string): Promise<boolean> {
    const removed = await this.config.storage.accessList.remove(kind, cidr, this.config.clock.now());
    if (removed) await this.syncNow();
    return removed;
  }

  /** Counts of cached bans and list entries. */
  get cached(): { keyBans: number; cidrBans: number; allow: number; deny: number } {
    return this.cache.sizes;
  }

  /** The storage's `init()` then the first full load; one run at a time. */
  private prepare(): Promise<void> {
    this.preparing ??= (async () => {
      try {
        const { init } = this.config.storage;
        // Bounded so that an init() that never answers is tried again (Mongo: the same connection attempt is awaited).
        if (init) await withTimeout(() => init.call(this.config.storage), this.config.storeStartupTimeoutMs);
        await this.syncNow();
        this.ready = true;
        if (this.lastPrepareFailure !== undefined) this.logger.log(messages.storageReady(Date.now() - this.startupAtMs));
      } finally {
        this.preparing = undefined;
      }
    })();
    return this.preparing;
  }

  /** Tries the storage again after a failed or slow startup. */
  private retryPrepare(): void {
    if (this.preparing !== undefined) return;
    this.prepare().catch((error: unknown) => {
      const reason = errorText(error);
      if (this.stopped || reason === this.lastPrepareFailure) return;
      this.lastPrepareFailure = reason;
      this.logger.error(messages.storagePrepareFailed(reason, this.config.banSyncIntervalMs));
    });
  }

  private tick(): void {
    if (this.stopped) return;
    if (!this.ready) return this.retryPrepare();
    if (this.polling) return; // a slow store: skip rather than pile polls up
    this.syncNow().catch((error: unknown) => {
      if (!this.stopped) this.logger.error(messages.banSyncFailed(error));
    });
    const nowMs = this.config.clock.now();
    if (nowMs - this.lastPurgeMs >= PURGE_INTERVAL_MS) {
      this.lastPurgeMs = nowMs;
      this.config.storage.violations
        .purge(nowMs - this.config.violationRetentionMs)
        .catch((error: unknown) => this.logger.warn(`Purging old violations failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  private async poll(): Promise<void> {
    this.polling = true;
    const pollSeq = this.writeSeq;
    const keep = (id: string) => (this.localWrites.get(id) ?? 0) > pollSeq;
    try {
      const startedAtMs = this.config.clock.now();
      if (this.cursorMs === undefined || startedAtMs - this.lastFullReloadMs >= FULL_RELOAD_INTERVAL_MS) {
        await this.fullReload(startedAtMs, keep);
        this.lastFullReloadMs = startedAtMs;
        // Removals and lifts are not in a listing of what is in force; fetch the latest ones too.
        await this.fetchChanges(startedAtMs - BAN_SYNC_OVERLAP_MS, keep);
      } else {
        await this.fetchChanges(this.cursorMs - BAN_SYNC_OVERLAP_MS, keep);
      }
      this.cache.prune(this.config.clock.now());
      this.cursorMs = startedAtMs;
    } finally {
      this.polling = false;
      for (const [id, seq] of this.localWrites) if (seq <= pollSeq) this.localWrites.delete(id);
    }
  }

  private async fullReload(listedAtMs: number, keep: (id: string) => boolean): Promise<void> {
    const { bans, accessList } = this.config.storage;
    const active: Ban[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.bounded(() => bans.list({ activeAtMs: listedAtMs }, { limit: LIST_PAGE, ...(cursor !== undefined ? { cursor } : {}) }));
      active.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const entries = await this.bounded(() => accessList.list());
    this.cache.replaceAll(active, entries, this.config.clock.now(), keep);
  }

  private async fetchChanges(sinceMs: number, keep: (id: string) => boolean): Promise<void> {
    const { bans, accessList } = this.config.storage;
    await pageThrough(sinceMs, (since) => this.bounded(() => bans.changedSince(since, CHANGES_PAGE)), (ban) => {
      if (!keep(ban.id)) this.cache.applyBan(ban, this.config.clock.now());
    });
    await pageThrough(sinceMs, (since) => this.bounded(() => accessList.changedSince(since, CHANGES_PAGE)), (entry) => {
      if (!keep(entryId(entry))) this.cache.applyEntry(entry, this.config.clock.now());
    });
  }

  /** Applies a record this instance just wrote (or adopted), ahead of any poll in flight. */
  private applyLocally(ban: Ban, nowMs: number): void {
    this.localWrites.set(ban.id, ++this.writeSeq);
    this.cache.applyBan(ban, nowMs);
  }

  private async recordInTurn(report: ViolationReport): Promise<ViolationOutcome> {
    const { key, nowMs } = report;
    // A block made meanwhile (by this key's previous violation here): the request met a running
    // block, so it is no violation.
    const known = this.cache.checkKey(key, nowMs);
    if (known.status === 'banned' || known.status === 'blocked') return outcomeOfBan(known.ban);

    const target: BanTarget = { type: 'key', key };
    let previous: Ban | null | undefined;
    if (report.escalation !== false) {
      try {
        previous = await this.bounded(() => this.config.storage.bans.get(target));
      } catch (error) {
        this.logger.error(messages.escalationFailed(key, 'reading its ban record', error));
      }
      if (previous && isBanActive(previous, nowMs)) {
        // Made by another instance and not yet fetched here: adopt it rather than escalate again.
        this.applyLocally(previous, nowMs);
        return outcomeOfBan(previous);
      }
    }

    const violation = toViolation(report);
    // Violations of a rule without escalation are only announced: written, they would count
    // towards other rules' blocks (the store counts per key, across rules).
    const recorded = report.escalation !== false && (await this.recordDurably(violation));
    // The storage takes writes: violations held meanwhile (a queue that was full) can go too.
    if (recorded && this.held.length > 0 && !this.storeHealth.isDown) void this.writeHeldViolations();
    this.events.publish(RAMPART_EVENTS.violation, { ...violation, address: report.address, recorded });
    if (report.escalation === false || previous === undefined) return NO_OUTCOME;
    return this.escalate(report, report.escalation, target, previous, recorded);
  }

  /**
   * A violation met while the store is down: a running block still answers; otherwise the
   * violation is announced and held (up to MAX_HELD_VIOLATIONS) to be written when the store is
   * back, where it counts towards the key's next escalation.
   */
  private holdViolation(report: ViolationReport): ViolationOutcome {
    const known = this.cache.checkKey(report.key, report.nowMs);
    if (known.status === 'banned' || known.status === 'blocked') return outcomeOfBan(known.ban);
    const violation = toViolation(report);
    if (report.escalation !== false) {
      if (this.held.length < MAX_HELD_VIOLATIONS) this.held.push(violation);
      else this.droppedHeld++;
    }
    this.events.publish(RAMPART_EVENTS.violation, { ...violation, address: report.address, recorded: false });
    return NO_OUTCOME;
  }

  /** Writes the violations held during an outage, off any request's path. */
  private async writeHeldViolations(): Promise<void> {
    if (this.writingHeld) return;
    this.writingHeld = true;
    try {
      await this.writeHeldOnce();
    } finally {
      this.writingHeld = false;
    }
  }

  private async writeHeldOnce(): Promise<void> {
    const held = this.held;
    const dropped = this.droppedHeld;
    this.held = [];
    this.droppedHeld = 0;
    if (held.length === 0 && dropped === 0) return;
    let recorded = 0;
    let failed = 0;
    for (let i = 0; i < held.length; i++) {
      if (this.storeHealth.isDown) {
        // Down again: keep the rest for the next recovery rather than log each one as lost.
        const kept = [...held.slice(i), ...this.held];
        this.droppedHeld += Math.max(0, kept.length - MAX_HELD_VIOLATIONS);
        this.held = kept.slice(0, MAX_HELD_VIOLATIONS);
        break;
      }
      if (await this.recordDurably(held[i]!)) recorded++;
      else failed++;
    }
    this.logger.log(messages.violationsHeld(recorded, failed, dropped, MAX_HELD_VIOLATIONS));
  }

  /** Writes a violation, retrying once; logs it as an error line when both attempts fail. */
  private async recordDurably(violation: Violation): Promise<boolean> {
    const { violations } = this.config.storage;
    try {
      await this.bounded(() => violations.record(violation));
      return true;
    } catch {
      try {
        await this.bounded(() => violations.record(violation));
        return true;
      } catch (error) {
        this.logger.error(messages.violationNotRecorded(violation, error));
        return false;
      }
    }
  }

  private async escalate(
    report: ViolationReport,
    policy: EscalationPolicy,
    target: BanTarget & { type: 'key' },
    previous: Ban | null,
    recorded: boolean,
  ): Promise<ViolationOutcome> {
    const { key, nowMs } = report;
    const windowStartMs = nowMs - policy.permanentBanWindowMs;
    // Blocks count what happened since the last one stopped (violations during a block can only be
    // stragglers racing it); the permanent threshold counts from an operator's unban at the earliest.
    const blockEndedMs = previous ? endOfBan(previous) : undefined;
    const sinceBlockMs = Math.max(windowStartMs, blockEndedMs ?? -Infinity);
    const sinceLiftMs = Math.max(windowStartMs, previous?.liftedAtMs === undefined ? -Infinity : previous.liftedAtMs + 1);
    // A violation the store lost still happened.
    const unrecorded = recorded ? 0 : 1;
    let violationsSinceLastBlock: number;
    let violationsInBanWindow: number;
    try {
      const { violations } = this.config.storage;
      [violationsSinceLastBlock, violationsInBanWindow] = await Promise.all([
        this.bounded(() => violations.count(key, sinceBlockMs)),
        sinceLiftMs === sinceBlockMs ? undefined : this.bounded(() => violations.count(key, sinceLiftMs)),
      ]).then(([a, b]) => [a + unrecorded, (b ?? a) + unrecorded]);
    } catch (error) {
      this.logger.error(messages.escalationFailed(key, 'counting its violations', error));
      return NO_OUTCOME;
    }
    const decision = decideEscalation({ violationsSinceLastBlock, violationsInBanWindow, previousBlocks: previous?.blockCount ?? 0 }, policy);
    if (decision.action === 'none') return NO_OUTCOME;

    const newBan: NewBan =
      decision.action === 'block'
        ? {
            target,
            kind: 'temporary',
            reason: `${violationsSinceLastBlock} violations of rate limits (last: '${report.rule}')`,
            source: 'auto',
            createdBy: AUTO_CREATOR,
            expiresAtMs: nowMs + decision.durationMs,
            violationCount: violationsInBanWindow,
          }
        : {
            target,
            kind: 'permanent',
            reason: `${violationsInBanWindow} violations of rate limits within ${Math.round(policy.permanentBanWindowMs / 1000)} s (last: '${report.rule}')`,
            source: 'auto',
            createdBy: AUTO_CREATOR,
            violationCount: violationsInBanWindow,
          };
    let ban: Ban | null;
    try {
      // Written only if the record is still the one the decision was made from: another instance
      // may be escalating the same key from the same record at this very moment.
      ban = await this.bounded(() => this.config.storage.bans.put(newBan, nowMs, { expectedVersion: previous?.version ?? null }));
    } catch (error) {
      this.logger.error(messages.escalationFailed(key, `writing its ${newBan.kind} ban ${JSON.stringify(newBan)}`, error));
      return NO_OUTCOME;
    }
    if (ban === null) {
      // The record changed since it was read (another instance's escalation, an operator's ban or
      // lift): this decision is dropped. A ban now in force is adopted (its writer announced it);
      // otherwise nothing is due, and the next violation escalates from the record as it now is.
      let current: Ban | null;
      try {
        current = await this.bounded(() => this.config.storage.bans.get(target));
      } catch (error) {
        this.logger.error(messages.escalationFailed(key, 'reading its ban record', error));
        return NO_OUTCOME;
      }
      if (current === null || !isBanActive(current, nowMs)) return NO_OUTCOME;
      this.applyLocally(current, nowMs);
      return outcomeOfBan(current);
    }
    this.applyLocally(ban, nowMs);
    this.announceBan(ban, nowMs);
    return isBanActive(ban, nowMs) ? outcomeOfBan(ban) : NO_OUTCOME;
  }

  private announceBan(ban: Ban, atMs: number): void {
    if (ban.kind === 'permanent') {
      this.events.publish(RAMPART_EVENTS.ban, { target: ban.target, ban, source: ban.source, reason: ban.reason, atMs });
    } else {
      const untilMs = ban.expiresAtMs ?? atMs;
      this.events.publish(RAMPART_EVENTS.block, {
        target: ban.target,
        ban,
        source: ban.source,
        reason: ban.reason,
        untilMs,
        durationMs: untilMs - atMs,
        blockCount: ban.blockCount,
        atMs,
      });
    }
  }
}

function toViolation(report: ViolationReport): Violation {
  const { key, rule, route, method, hits, limit, nowMs } = report;
  return { key, rule, route, method, hits, limit, atMs: nowMs };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * From when violations count again after a ban: its expiry, or just after its lift (violations
 * recorded in the very millisecond of a lift came before it), whichever came first.
 */
function endOfBan(ban: Ban): number {
  const ends = [ban.liftedAtMs === undefined ? undefined : ban.liftedAtMs + 1, ban.kind === 'temporary' ? ban.expiresAtMs : undefined];
  const known = ends.filter((t): t is number => t !== undefined);
  return known.length > 0 ? Math.min(...known) : ban.createdAtMs;
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
