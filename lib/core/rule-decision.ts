import type { AlgorithmName, AlgorithmRule, Decision } from './algorithms/algorithm.interface.js';
import { getAlgorithm } from './algorithms/index.js';

/** A rule as a store sees it: the algorithm's parameters plus its name and block duration. */
export interface StoreRule extends AlgorithmRule {
  /** The rule's name (`default` unless named). */
  readonly name: string;
  readonly algorithm: AlgorithmName;
  /** After a denial, deny everything from this key for this long. 0 = no block. */
  readonly blockDurationMs: number;
}

/** One rule decision, as every store returns it. */
export interface ConsumeResult extends Decision {
  /** Epoch ms until which this key is blocked by the rule's `blockDurationMs`, when it is. */
  readonly blockedUntilMs?: number;
  /**
   * True when the request was denied by a block already running before it (the rule's
   * `blockDurationMs`), not by the algorithm: such a request is not a new violation.
   */
  readonly ongoingBlock?: boolean;
  /**
   * True for a denial not taken from the key's state: its decisions in flight already used the
   * whole capacity, so the figures (`retryAfterMs` above all) are an estimate. Such a denial is not
   * remembered as a known one.
   */
  readonly estimated?: boolean;
  /**
   * True for a denial by an outcome-aware rule (`countIf`) while the limit is not filled by counted
   * outcomes alone: units that requests in flight hold may still come back, so the refusal is no
   * violation and starts no block.
   */
  readonly heldInFlight?: true;
  /**
   * When the units of an admission were taken, when not at the decision's time: a request that
   * waited for units in flight (`waitMs`) takes them when they come back. Its refund goes there.
   */
  readonly reservedAtMs?: number;
}

/** What a store keeps per key and rule: the algorithm's state and the end of a block. */
export interface RuleState {
  /** Algorithm state (`undefined`: nothing counted yet). */
  readonly algorithmState?: unknown;
  /** Epoch ms until which the key is blocked; absent when not blocked. */
  readonly blockedUntilMs?: number;
}

export interface RuleOutcome {
  /** The state to keep; the same object as the input when nothing changed. */
  readonly state: RuleState;
  readonly result: ConsumeResult;
  /** Epoch ms from which `state` may be dropped. */
  readonly expiresAtMs: number;
}

/**
 * Decides one request for one rule: a running block answers first, then the algorithm; a denial
 * starts a block when the rule has one. Pure: the clock is the `nowMs` argument.
 */
export function decideRule(state: RuleState | undefined, rule: StoreRule, nowMs: number, cost: number): RuleOutcome {
  const algorithm = getAlgorithm(rule.algorithm);
  const blockedUntilMs = state?.blockedUntilMs;
  if (state && blockedUntilMs !== undefined && blockedUntilMs > nowMs) {
    const decision = algorithm.peek(state.algorithmState, rule, nowMs);
    return {
      state,
      result: { ...decision, allowed: false, remaining: 0, retryAfterMs: blockedUntilMs - nowMs, blockedUntilMs, ongoingBlock: true },
      expiresAtMs: Math.max(blockedUntilMs, algorithm.expiresAtMs(state.algorithmState, rule)),
    };
  }
  const { state: algorithmState, decision } = algorithm.consume(state?.algorithmState, rule, nowMs, cost);
  if (!decision.allowed && rule.blockDurationMs > 0) {
    const until = nowMs + Math.max(rule.blockDurationMs, decision.retryAfterMs);
    return {
      state: { algorithmState, blockedUntilMs: until },
      result: { ...decision, remaining: 0, retryAfterMs: until - nowMs, blockedUntilMs: until },
      expiresAtMs: Math.max(until, algorithm.expiresAtMs(algorithmState, rule)),
    };
  }
  const next = state && algorithmState === state.algorithmState && blockedUntilMs === undefined ? state : { algorithmState };
  return { state: next, result: decision, expiresAtMs: algorithm.expiresAtMs(algorithmState, rule) };
}

/** What `decideRule` would answer for a request of cost 1, without consuming. */
export function peekRule(state: RuleState | undefined, rule: StoreRule, nowMs: number): ConsumeResult {
  const algorithm = getAlgorithm(rule.algorithm);
  const decision = algorithm.peek(state?.algorithmState, rule, nowMs);
  const blockedUntilMs = state?.blockedUntilMs;
  if (blockedUntilMs !== undefined && blockedUntilMs > nowMs) {
    return { ...decision, allowed: false, remaining: 0, retryAfterMs: blockedUntilMs - nowMs, blockedUntilMs, ongoingBlock: true };
  }
  return decision;
}

/** The state to keep after a refund, and from when it may be dropped. */
export interface RuleRefund {
  readonly state: RuleState;
  /** Epoch ms from which `state` may be dropped. */
  readonly expiresAtMs: number;
}

/** Whether a refund has something to give back: a positive finite cost at finite times. */
export function refundable(nowMs: number, cost: number, reservedAtMs: number): boolean {
  return cost > 0 && cost < Infinity && Number.isFinite(nowMs) && Number.isFinite(reservedAtMs);
}

/**
 * Gives back at `nowMs` the `cost` units a request admitted at `reservedAtMs` took (see the
 * algorithm's `refund`: only to where they were taken, never below zero, never above the capacity).
 * A running block stays: a refund never lifts it. `undefined` when nothing changes (nothing stored,
 * nothing left to give back, or a cost or time that is not a positive finite number), so a store
 * writes nothing. Pure: the clock is the `nowMs` argument.
 */
export function refundRule(state: RuleState | undefined, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number): RuleRefund | undefined {
  if (state?.algorithmState === undefined || !refundable(nowMs, cost, reservedAtMs)) return undefined;
  const algorithm = getAlgorithm(rule.algorithm);
  const algorithmState = algorithm.refund(state.algorithmState, rule, nowMs, cost, reservedAtMs);
  if (algorithmState === state.algorithmState) return undefined;
  const expiresAtMs = algorithm.expiresAtMs(algorithmState, rule);
  const { blockedUntilMs } = state;
  if (blockedUntilMs !== undefined && blockedUntilMs > nowMs) {
    return { state: { algorithmState, blockedUntilMs }, expiresAtMs: Math.max(blockedUntilMs, expiresAtMs) };
  }
  return { state: { algorithmState }, expiresAtMs };
}
