import { ruleCapacity } from '../core/algorithms/algorithm.interface.js';
import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import { requestStoreKey, type RampartRequest } from '../engine/rampart-request.js';
import type { ResolvedRule } from '../engine/rule-resolution.js';
import type { RuleResult, Verdict } from '../engine/verdict.js';
import { refundFailed } from '../errors/outcome-messages.js';
import type { StoreGateway } from '../protection/store-gateway.js';
import { counts, type RequestOutcome } from './request-outcome.js';
import { countedKey } from './outcome-denials.js';
import type { InFlightKeys } from './in-flight-keys.js';

/** Counts and gives units back in the rate-limit store (the store gateway: bounded, never throwing). */
export type OutcomeStore = Pick<StoreGateway, 'refund' | 'consume'>;

/** What the settler needs. */
export interface OutcomeParts {
  readonly store: OutcomeStore;
  /** Told of the units requests in flight hold, by key, and of each that settles. */
  readonly inFlight?: Pick<InFlightKeys, 'held' | 'settled' | 'close'>;
  readonly clock: Clock;
  readonly logger: RampartLogger;
}

/**
 * What an admitted request holds under its outcome-aware rules (`countIf`) until its outcome is
 * known: the units each such rule took for it, given back (or its count reset, for a `consecutive`
 * rule) once the outcome is one the rule does not count, and counted as an outcome otherwise (see
 * `countedKey`). Settled once; a reservation never settled (an instance that dies mid-request) keeps
 * its units, but is not counted as an outcome.
 */
export interface Reservation<C = unknown> {
  readonly results: readonly RuleResult<C>[];
  /** The store key of each result. */
  readonly keys: readonly string[];
  /** Whether its units were told in flight (see `OutcomeParts.inFlight`): a refused request's never are. */
  readonly held: boolean;
  /**
   * When the units were taken (a result's own `reservedAtMs` when it waited for them): a refund goes
   * back to that window only, and a counted outcome is counted there.
   */
  readonly reservedAtMs: number;
  readonly request: Pick<RampartRequest<C>, 'context' | 'storeKey'>;
  settled: boolean;
}

/**
 * Reservations of calls whose handler is still to run, by the call's arguments (GraphQL resolvers,
 * microservice handlers), with what cancels the lease that settles them if their interceptor never
 * takes them (see `UNTAKEN_CALL_MS`).
 */
const calls = new WeakMap<object, { readonly settle: Settle; cancel(): void }>();

/** Settles one held reservation by its outcome (none: counted under every rule). */
type Settle = (outcome: RequestOutcome<never> | undefined) => Promise<void>;

/**
 * How long after Rampart's guard admitted a GraphQL or microservice call its interceptor has to
 * take its reservation: a call whose interceptor is not reached by then was refused by a guard
 * after Rampart's (or failed before its handler), and is counted under every rule (fails closed).
 */
export const UNTAKEN_CALL_MS = 10_000;

/**
 * Settles outcome-aware rules: before the handler, a request takes its units as under any rule
 * (so requests in flight can never pass the limit); after it, an outcome the rule does not count
 * gives them back, and one it counts is counted as such on the rule's counted key (whether counted
 * outcomes alone fill the limit tells a violation from a refusal by requests in flight: see
 * `judgeOutcomeDenial`). These store calls are made in the background: a failed refund is logged
 * and leaves the request counted (fails closed).
 */
export class OutcomeSettler<C = unknown> {
  /**
   * The settlement of the reservation `hold` kept for a call's arguments, once. One interceptor
   * serves every app of a process (decorator metadata is the class's); each call's arguments are its own.
   */
  static take(args: object): Settle | undefined {
    const held = calls.get(args);
    if (held === undefined) return undefined;
    calls.delete(args);
    held.cancel();
    return held.settle;
  }

  /** Settlements whose refunds or resets the store has not answered yet. */
  private readonly inFlight = new Set<Promise<void>>();
  /** What settles, counted, each held call whose interceptor has not taken it yet (at shutdown, at once). */
  private readonly untaken = new Set<() => void>();
  private stopped = false;

  constructor(private readonly parts: OutcomeParts) {}

  /**
   * Keeps an admitted call's reservation for `OutcomeInterceptor`, by the arguments its guard and
   * interceptor share; a refused call's units are given back at once (see `refused`).
   */
  hold(args: object, verdict: Verdict<C>, request: Pick<RampartRequest<C>, 'context' | 'storeKey' | 'protocol'>): void {
    if (verdict.outcome !== 'admitted') {
      void this.refused(verdict, request);
      return;
    }
    const reservation = this.reserve(verdict, request);
    if (reservation === undefined) return;
    // The same call held again (Rampart's guard run twice on it): its one outcome settles both.
    const previous = calls.get(args);
    previous?.cancel();
    const own: Settle = (outcome) => this.settle(reservation, outcome);
    const settle: Settle = previous ? (outcome) => Promise.all([previous.settle(outcome), own(outcome)]).then(() => undefined) : own;
    const lease: { timer?: ReturnType<typeof setTimeout> } = {};
    const entry = {
      settle,
      cancel: () => {
        clearTimeout(lease.timer);
        this.untaken.delete(expire);
      },
    };
    const expire = () => {
      entry.cancel();
      if (calls.get(args) === entry) calls.delete(args);
      void settle(undefined);
    };
    calls.set(args, entry);
    // Once stopping, nothing may reach the storage later: the interceptor alone settles the call.
    if (this.stopped) return;
    lease.timer = setTimeout(expire, UNTAKEN_CALL_MS);
    lease.timer.unref?.();
    this.untaken.add(expire);
  }

  /** The reservation of an admitted verdict, when a rule that counted it counts outcomes; undefined otherwise. */
  reserve(verdict: Verdict<C>, request: Pick<RampartRequest<C>, 'context' | 'storeKey'>): Reservation<C> | undefined {
    if (verdict.outcome !== 'admitted') return undefined;
    // A shadow rule's denial took nothing.
    const results = withOutcomes(verdict).filter((r) => r.result.allowed);
    if (results.length === 0) return undefined;
    const keys = results.map((r) => requestStoreKey(request, r.targetRule, r.clientKey));
    keys.forEach((key, i) => this.parts.inFlight?.held(key, results[i].cost, results[i].result.reservedAtMs ?? verdict.nowMs));
    return { results, keys, held: true, reservedAtMs: verdict.nowMs, request, settled: false };
  }

  /**
   * Settles at once, as a 429 (`{ protocol, status: 429 }`), the units outcome-aware rules took for
   * a request another rule refused: a rule that does not count that outcome (`countIf: 'succeeded'`)
   * gives them back, so that refusals never eat its quota. A refusal only by units that requests in
   * flight hold (`heldInFlight`) is no outcome of the client's: every rule gives its units back.
   */
  refused(verdict: Verdict<C>, request: Pick<RampartRequest<C>, 'context' | 'storeKey' | 'protocol'>): Promise<void> {
    if (verdict.outcome === 'admitted') return Promise.resolve();
    const results = withOutcomes(verdict).filter((r) => r.result.allowed);
    if (results.length === 0) return Promise.resolve();
    const keys = results.map((r) => requestStoreKey(request, r.targetRule, r.clientKey));
    const heldOnly = verdict.outcome === 'limited' && verdict.results.every((r) => r.result.allowed || r.result.heldInFlight === true);
    const reservation: Reservation<C> = { results, keys, held: false, reservedAtMs: verdict.nowMs, request, settled: false };
    return this.settle(reservation, { protocol: request.protocol ?? 'http', status: 429 }, heldOnly);
  }

  /**
   * Settles `reservation` by `outcome` (the first call only): each rule that does not count the
   * outcome gives its units back, or resets the client's count (`consecutive`); each rule that counts
   * it counts it as an outcome. No outcome (a client that went away first) counts under every rule;
   * `giveBack` gives every unit back. Resolves once the store has answered; never rejects.
   */
  settle(reservation: Reservation<C>, outcome: RequestOutcome<C> | undefined, giveBack = false): Promise<void> {
    if (reservation.settled) return Promise.resolve();
    reservation.settled = true;
    const { logger } = this.parts;
    const { context } = reservation.request;
    // A countIf function sees the request's context too: what the handler left on the request or response.
    const seen = outcome === undefined || outcome.context !== undefined || context === undefined ? outcome : { ...outcome, context };
    const pending: Promise<void>[] = [];
    reservation.results.forEach((result, i) => {
      const { rule } = result.targetRule;
      const key = reservation.keys[i];
      const { cost } = result;
      const atMs = result.result.reservedAtMs ?? reservation.reservedAtMs;
      const done = giveBack
        ? this.refund(key, rule, cost, atMs, result.result)
        : seen === undefined || counts(rule.countIf!, seen, rule, logger)
          ? this.count(key, rule, cost, atMs)
          : rule.consecutive
            ? this.reset(key, rule)
            : this.refund(key, rule, cost, atMs, result.result);
      pending.push(done.then(() => this.parts.inFlight?.settled(key, reservation.held ? cost : 0, atMs)));
    });
    if (pending.length === 0) return Promise.resolve();
    const settled = Promise.all(pending).then(() => undefined);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return settled;
  }

  /** Resolves once every settlement under way has reached the store. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /**
   * At shutdown, before the storage closes: requests waiting for units in flight (`waitMs`) stop
   * waiting (refused), held calls not yet taken by their interceptor are counted, and every
   * settlement under way reaches the store (see `drain`).
   */
  stop(): Promise<void> {
    this.stopped = true;
    this.parts.inFlight?.close();
    for (const expire of [...this.untaken]) expire();
    return this.drain();
  }

  /**
   * Counts an outcome the rule counts on its counted key, in the window its units were taken from
   * (the store gateway never throws; while the store is down, its outage policy: nothing counted).
   */
  private count(key: string, rule: ResolvedRule<C>, cost: number, reservedAtMs: number): Promise<void> {
    return Promise.resolve(this.parts.store.consume(countedKey(key), rule.storeRule, 'allow', reservedAtMs, cost, key)).then(() => undefined);
  }

  private refund(key: string, rule: ResolvedRule<C>, cost: number, reservedAtMs: number, answer?: RuleResult<C>['result']): Promise<void> {
    try {
      return Promise.resolve(this.parts.store.refund(key, rule.storeRule, this.parts.clock.now(), cost, reservedAtMs, answer)).catch((error: unknown) =>
        this.parts.logger.error(refundFailed(rule.name, error)),
      );
    } catch (error) {
      this.parts.logger.error(refundFailed(rule.name, error));
      return Promise.resolve();
    }
  }

  /**
   * Resets the client's count under a `consecutive` rule: everything it holds is given back (its
   * current window, and the previous one a sliding window still weighs), and its counted outcomes
   * with it, by refunds through the store gateway, which never lift a running block: a success in
   * flight when concurrent failures started a block does not end it.
   */
  private reset(key: string, rule: ResolvedRule<C>): Promise<void> {
    const { storeRule } = rule;
    const nowMs = this.parts.clock.now();
    const capacity = ruleCapacity(storeRule);
    const windows = storeRule.algorithm === 'sliding-window' ? [nowMs, nowMs - storeRule.windowMs] : [nowMs];
    const keys = [key, countedKey(key)];
    return Promise.all(keys.flatMap((k) => windows.map((at) => this.refund(k, rule, capacity, at)))).then(() => undefined);
  }
}

/** The results of a verdict's rules that count outcomes (`countIf`), shadow rules' included. */
function withOutcomes<C>(verdict: Verdict<C>): RuleResult<C>[] {
  return (verdict.shadowResults ? [...verdict.results, ...verdict.shadowResults] : verdict.results).filter((r) => r.targetRule.rule.countIf !== undefined);
}
