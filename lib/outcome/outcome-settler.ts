import { ruleCapacity } from '../core/algorithms/algorithm.interface.js';
import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import type { RampartRequest } from '../engine/rampart-request.js';
import type { ResolvedRule } from '../engine/rule-resolution.js';
import type { RuleResult, Verdict } from '../engine/verdict.js';
import { refundFailed } from '../errors/outcome-messages.js';
import type { StoreGateway } from '../protection/store-gateway.js';
import { counts, type RequestOutcome } from './request-outcome.js';

/** Gives units back to the rate-limit store (the store gateway: bounded, never throwing). */
export type Refunds = Pick<StoreGateway, 'refund'>;

/** What the settler needs. */
export interface OutcomeParts {
  readonly refunds: Refunds;
  readonly clock: Clock;
  readonly logger: RampartLogger;
}

/**
 * What an admitted request holds under its outcome-aware rules (`countIf`) until its outcome is
 * known: the units each such rule took for it, given back (or its count reset, for a `consecutive`
 * rule) once the outcome is one the rule does not count. Settled once; a reservation never settled
 * (an instance that dies mid-request) stays counted.
 */
export interface Reservation<C = unknown> {
  readonly results: readonly RuleResult<C>[];
  /** When the units were taken: a refund goes back to that window only. */
  readonly reservedAtMs: number;
  readonly request: Pick<RampartRequest<C>, 'context' | 'storeKey'>;
  settled: boolean;
}

/** Reservations of calls whose handler is still to run, by the call's arguments (GraphQL resolvers, microservice handlers). */
const calls = new WeakMap<object, Settle>();

/** Settles one held reservation by its outcome. */
type Settle = (outcome: RequestOutcome<never>) => Promise<void>;

/**
 * Settles outcome-aware rules: before the handler, a request takes its units as under any rule
 * (so requests in flight can never pass the limit); after it, an outcome the rule does not count
 * gives them back. Refunds (and resets, made of refunds) go to the store in the background: a
 * failure is logged and leaves the request counted (fails closed).
 */
export class OutcomeSettler<C = unknown> {
  /**
   * The settlement of the reservation `hold` kept for a call's arguments, once. One interceptor
   * serves every app of a process (decorator metadata is the class's); each call's arguments are its own.
   */
  static take(args: object): Settle | undefined {
    const held = calls.get(args);
    if (held !== undefined) calls.delete(args);
    return held;
  }

  /** Settlements whose refunds or resets the store has not answered yet. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly parts: OutcomeParts) {}

  /**
   * Keeps an admitted call's reservation for `OutcomeInterceptor`, by the arguments its guard and
   * interceptor share; a refused call's units are given back at once (see `refused`).
   */
  hold(args: object, verdict: Verdict<C>, request: Pick<RampartRequest<C>, 'context' | 'storeKey' | 'protocol'>): void {
    if (verdict.outcome !== 'admitted') return this.refused(verdict, request);
    const reservation = this.reserve(verdict, request);
    if (reservation !== undefined) calls.set(args, (outcome) => this.settle(reservation, outcome));
  }

  /** The reservation of an admitted verdict, when a rule that counted it counts outcomes; undefined otherwise. */
  reserve(verdict: Verdict<C>, request: Pick<RampartRequest<C>, 'context' | 'storeKey'>): Reservation<C> | undefined {
    if (verdict.outcome !== 'admitted') return undefined;
    const held = withOutcomes(verdict);
    return held.length === 0 ? undefined : { results: held, reservedAtMs: verdict.nowMs, request, settled: false };
  }

  /**
   * Settles at once, as a 429 (`{ protocol, status: 429 }`), the units outcome-aware rules took for
   * a request another rule refused: a rule that does not count that outcome (`countIf: 'succeeded'`)
   * gives them back, so that refusals never eat its quota.
   */
  refused(verdict: Verdict<C>, request: Pick<RampartRequest<C>, 'context' | 'storeKey' | 'protocol'>): void {
    if (verdict.outcome === 'admitted') return;
    const taken = withOutcomes(verdict).filter((r) => r.result.allowed);
    if (taken.length > 0)
      void this.settle({ results: taken, reservedAtMs: verdict.nowMs, request, settled: false }, { protocol: request.protocol ?? 'http', status: 429 });
  }

  /**
   * Settles `reservation` by `outcome` (the first call only): each rule that does not count the
   * outcome gives its units back, or resets the client's count (`consecutive`). Resolves once the
   * store has answered; never rejects.
   */
  settle(reservation: Reservation<C>, outcome: RequestOutcome<C>): Promise<void> {
    if (reservation.settled) return Promise.resolve();
    reservation.settled = true;
    const { logger } = this.parts;
    const { context, storeKey } = reservation.request;
    // A countIf function sees the request's context too: what the handler left on the request or response.
    const seen = outcome.context !== undefined || context === undefined ? outcome : { ...outcome, context };
    const pending: Promise<void>[] = [];
    for (const result of reservation.results) {
      const { rule } = result.targetRule;
      if (counts(rule.countIf!, seen, rule, logger)) continue;
      const key = storeKey ? storeKey(context, result.clientKey, result.targetRule) : result.targetRule.keyPrefix + result.clientKey;
      pending.push(rule.consecutive ? this.reset(key, rule) : this.refund(key, rule, result.cost, reservation.reservedAtMs, result.result));
    }
    if (pending.length === 0) return Promise.resolve();
    const settled = Promise.all(pending).then(() => undefined);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return settled;
  }

  /** Resolves once every settlement under way has reached the store (at shutdown, before the storage closes). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private refund(key: string, rule: ResolvedRule<C>, cost: number, reservedAtMs: number, answer?: RuleResult<C>['result']): Promise<void> {
    try {
      return Promise.resolve(this.parts.refunds.refund(key, rule.storeRule, this.parts.clock.now(), cost, reservedAtMs, answer)).catch((error: unknown) =>
        this.parts.logger.error(refundFailed(rule.name, error)),
      );
    } catch (error) {
      this.parts.logger.error(refundFailed(rule.name, error));
      return Promise.resolve();
    }
  }

  /**
   * Resets the client's count under a `consecutive` rule: everything it holds is given back (its
   * current window, and the previous one a sliding window still weighs), by refunds through the
   * store gateway, which never lift a running block: a success in flight when concurrent failures
   * started a block does not end it.
   */
  private reset(key: string, rule: ResolvedRule<C>): Promise<void> {
    const { storeRule } = rule;
    const nowMs = this.parts.clock.now();
    const capacity = ruleCapacity(storeRule);
    const windows = storeRule.algorithm === 'sliding-window' ? [nowMs, nowMs - storeRule.windowMs] : [nowMs];
    return Promise.all(windows.map((at) => this.refund(key, rule, capacity, at))).then(() => undefined);
  }
}

/** The results of a verdict's rules that count outcomes (`countIf`), shadow rules' included. */
function withOutcomes<C>(verdict: Verdict<C>): RuleResult<C>[] {
  return (verdict.shadowResults ? [...verdict.results, ...verdict.shadowResults] : verdict.results).filter((r) => r.targetRule.rule.countIf !== undefined);
}
