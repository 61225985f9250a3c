import { decideEscalation, type EscalationPolicy } from '../core/escalation.js';
import { UNKNOWN_CLIENT } from '../core/ip/client-key.js';
import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { RAMPART_EVENTS } from '../events/rate-limit-events.js';
import { isBanActive, type Ban, type BanTarget, type NewBan } from '../storage/ban-store.interface.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import type { Violation } from '../storage/violation-store.interface.js';
import { announceBan } from './ban-announcer.js';
import { shadowKey, shadowMark } from '../engine/store-keys.js';
import type { BanSync, Bounded } from './ban-sync.js';
import { NO_OUTCOME, outcomeOfBan, type ViolationOutcome } from './protection-verdict.js';
import { withTimeout, type StoreHealth } from './store-health.js';
import type { ViolationWriter } from './violation-writer.js';

/** The shadow key of clients without an address: never escalated either. */
const SHADOW_UNKNOWN = shadowKey(UNKNOWN_CLIENT);
/** Name written as `createdBy` on automatic blocks and bans. */
const AUTO_CREATOR = 'rampart';
/**
 * Violations of one key waiting for their turn on this instance. A key that violates faster than
 * its violations can be written (a storage that has become slow) has the rest held instead.
 */
export const MAX_QUEUED_PER_KEY = 16;

/** A request denied by a rule's algorithm: the violation to store, at `nowMs`. */
export interface ViolationReport extends Omit<Violation, 'atMs'> {
  readonly address: string | null;
  /** The protocol the request came by (`RampartRequest.protocol`). @default 'http' */
  readonly protocol?: string;
  readonly nowMs: number;
  /** The rule's escalation policy; false to only announce the violation (no record, no escalation). */
  readonly escalation: EscalationPolicy | false;
}

export interface EscalatorParts {
  readonly storage: RampartStorage;
  readonly bans: BanSync;
  readonly writer: ViolationWriter;
  readonly health: StoreHealth;
  readonly events: EventPublisher;
  readonly logger: RampartLogger;
  readonly bounded: Bounded;
  /** Longest wait of a request for its escalation (`storeTimeoutMs`). */
  readonly requestTimeoutMs: number;
  /** How long automatic bans last; undefined: permanent. */
  readonly autoBanDurationMs?: number;
}

/**
 * Records violations and applies the escalation policy: blocks that grow with each repeat, then a
 * permanent ban, or one of `autoBanDurationMs` (never for the shared key `unknown`). Violations of one key are handled one after another on this instance (a chain
 * per key); across instances, a ban already in force in the store is adopted instead of escalating
 * again, and an escalation is written only if the key's record is still the one it was decided from.
 */
export class Escalator {
  /** One promise chain per client key: its tail and how many violations wait in it. */
  private readonly pendingByKey = new Map<string, { tail: Promise<void>; queued: number }>();

  constructor(private readonly parts: EscalatorParts) {}

  /**
   * Records a violation and escalates when due. Never throws: a store failure is logged and the
   * request keeps its rule's answer. Resolves within `storeTimeoutMs`: a slower escalation goes on
   * in the background (its block is enforced as soon as it is written). While the store is down,
   * the violation is held and written when the store is back.
   */
  recordViolation(report: ViolationReport): Promise<ViolationOutcome> {
    if (this.parts.health.isDown) return Promise.resolve(this.hold(report));
    const { key } = report;
    const chain = this.pendingByKey.get(key) ?? { tail: Promise.resolve(), queued: 0 };
    if (chain.queued >= MAX_QUEUED_PER_KEY) return Promise.resolve(this.hold(report));
    const run = chain.tail.then(() => this.recordInTurn(report));
    chain.tail = run.then(
      () => undefined,
      () => undefined,
    );
    chain.queued++;
    this.pendingByKey.set(key, chain);
    void chain.tail.then(() => {
      if (--chain.queued > 0) return;
      if (this.pendingByKey.get(key) === chain) this.pendingByKey.delete(key);
      // The key's queue drained: what was held beyond it is written now, not at its next violation.
      this.parts.writer.flush();
    });
    return withTimeout(() => run, this.parts.requestTimeoutMs).catch(() => NO_OUTCOME);
  }

  /**
   * A violation met while the store is down (or its key's queue is full): a running block still
   * answers; otherwise the violation is announced and held, to count when it is written.
   */
  private hold(report: ViolationReport): ViolationOutcome {
    const known = this.parts.bans.checkKey(report.key, report.nowMs);
    if (known.status === 'banned' || known.status === 'blocked') return outcomeOfBan(known.ban);
    const violation = toViolation(report);
    if (report.escalation !== false) this.parts.writer.hold(violation);
    this.parts.events.publish(RAMPART_EVENTS.violation, {
      ...violation,
      address: report.address,
      protocol: report.protocol ?? 'http',
      recorded: false,
      ...shadowMark(violation.key),
    });
    return NO_OUTCOME;
  }

  private async recordInTurn(report: ViolationReport): Promise<ViolationOutcome> {
    const { key, nowMs } = report;
    const { bans, storage, bounded, logger } = this.parts;
    // A block made meanwhile (by this key's previous violation here): the request met a running
    // block, so it is no violation.
    const known = bans.checkKey(key, nowMs);
    if (known.status === 'banned' || known.status === 'blocked') return outcomeOfBan(known.ban);

    const target: BanTarget = { type: 'key', key };
    let previous: Ban | null | undefined;
    if (report.escalation !== false) {
      try {
        previous = await bounded(() => storage.bans.get(target));
      } catch (error) {
        logger.error(messages.escalationFailed(key, 'reading its ban record', error));
      }
      if (previous && isBanActive(previous, nowMs)) {
        // Made by another instance and not yet fetched here: adopt it rather than escalate again.
        bans.applyBan(previous, nowMs);
        return outcomeOfBan(previous);
      }
    }

    const recorded = await this.recordOnly(report);
    // The shared key of clients without an address is never blocked or banned: all of them would be.
    // (An identity a key resolver named `unknown` comes with its address, and escalates as any.)
    if (report.escalation === false || previous === undefined || ((key === UNKNOWN_CLIENT || key === SHADOW_UNKNOWN) && report.address === null))
      return NO_OUTCOME;
    return this.escalate(report, report.escalation, target, previous, recorded);
  }

  /**
   * Writes the violation and announces it. Violations of a rule without escalation are only
   * announced: written, they would count towards other rules' blocks (the store counts per key,
   * across rules).
   */
  private async recordOnly(report: ViolationReport): Promise<boolean> {
    const violation = toViolation(report);
    const recorded = report.escalation !== false && (await this.parts.writer.record(violation));
    this.parts.events.publish(RAMPART_EVENTS.violation, {
      ...violation,
      address: report.address,
      protocol: report.protocol ?? 'http',
      recorded,
      ...shadowMark(violation.key),
    });
    return recorded;
  }

  private async escalate(
    report: ViolationReport,
    policy: EscalationPolicy,
    target: BanTarget & { type: 'key' },
    previous: Ban | null,
    recorded: boolean,
  ): Promise<ViolationOutcome> {
    const { key, nowMs } = report;
    const { storage, bounded, logger } = this.parts;
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
      [violationsSinceLastBlock, violationsInBanWindow] = await Promise.all([
        bounded(() => storage.violations.count(key, sinceBlockMs)),
        sinceLiftMs === sinceBlockMs ? undefined : bounded(() => storage.violations.count(key, sinceLiftMs)),
      ]).then(([a, b]) => [a + unrecorded, (b ?? a) + unrecorded]);
    } catch (error) {
      logger.error(messages.escalationFailed(key, 'counting its violations', error));
      return NO_OUTCOME;
    }
    const decision = decideEscalation({ violationsSinceLastBlock, violationsInBanWindow, previousBlocks: previous?.blockCount ?? 0 }, policy);
    if (decision.action === 'none') return NO_OUTCOME;

    const common = { target, source: 'auto', createdBy: AUTO_CREATOR, violationCount: violationsInBanWindow } as const;
    const newBan: NewBan =
      decision.action === 'block'
        ? {
            ...common,
            kind: 'temporary',
            reason: `${violationsSinceLastBlock} violations of rate limits (last: '${report.rule}')`,
            expiresAtMs: nowMs + decision.durationMs,
          }
        : banFor(
            this.parts.autoBanDurationMs,
            nowMs,
            common,
            `${violationsInBanWindow} violations of rate limits within ${Math.round(policy.permanentBanWindowMs / 1000)} s (last: '${report.rule}')`,
          );
    let ban: Ban | null;
    try {
      // Written only if the record is still the one the decision was made from: another instance
      // may be escalating the same key from the same record at this very moment.
      ban = await bounded(() => storage.bans.put(newBan, nowMs, { expectedVersion: previous?.version ?? null }));
    } catch (error) {
      logger.error(messages.escalationFailed(key, `writing its ${newBan.kind} ban ${JSON.stringify(newBan)}`, error));
      return NO_OUTCOME;
    }
    if (ban === null) return this.adoptCurrent(target, nowMs);
    this.parts.bans.applyBan(ban, nowMs);
    announceBan(this.parts.events, ban, nowMs);
    return isBanActive(ban, nowMs) ? outcomeOfBan(ban) : NO_OUTCOME;
  }

  /**
   * The record changed since it was read (another instance's escalation, an operator's ban or
   * lift): this decision is dropped. A ban now in force is adopted (its writer announced it);
   * otherwise nothing is due, and the next violation escalates from the record as it now is.
   */
  private async adoptCurrent(target: BanTarget & { type: 'key' }, nowMs: number): Promise<ViolationOutcome> {
    let current: Ban | null;
    try {
      current = await this.parts.bounded(() => this.parts.storage.bans.get(target));
    } catch (error) {
      this.parts.logger.error(messages.escalationFailed(target.key, 'reading its ban record', error));
      return NO_OUTCOME;
    }
    if (current === null || !isBanActive(current, nowMs)) return NO_OUTCOME;
    this.parts.bans.applyBan(current, nowMs);
    return outcomeOfBan(current);
  }
}

/** The ban `permanentBanAfter` leads to: permanent, or temporary for `autoBanDurationMs` when set. */
function banFor(autoBanDurationMs: number | undefined, nowMs: number, common: Omit<NewBan, 'kind' | 'reason' | 'expiresAtMs'>, reason: string): NewBan {
  if (autoBanDurationMs === undefined) return { ...common, kind: 'permanent', reason };
  return { ...common, kind: 'temporary', reason: `${reason}; banned for ${Math.round(autoBanDurationMs / 1000)} s`, expiresAtMs: nowMs + autoBanDurationMs };
}

function toViolation(report: ViolationReport): Violation {
  const { key, rule, route, method, hits, limit, nowMs } = report;
  return { key, rule, route, method, hits, limit, atMs: nowMs };
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
