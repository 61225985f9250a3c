import type { HeaderItem } from '../core/headers.js';
import type { ConsumeResult } from '../core/rule-decision.js';
import type { Ban } from '../storage/ban-store.interface.js';
import type { ProtectionVerdict } from '../protection/protection-verdict.js';
import type { TargetRule, TargetRules } from './target-rules.js';

/** One rule's answer for one request. */
export interface RuleResult<C = unknown> extends HeaderItem {
  readonly targetRule: TargetRule<C>;
  /** The client key this rule counted (the request's, or the rule's own `keyResolver`'s). */
  readonly clientKey: string;
  readonly cost: number;
  readonly result: ConsumeResult;
}

interface VerdictBase<C> {
  /** The rules that counted this request, for `RateLimit` headers; empty when none did. */
  readonly results: readonly RuleResult<C>[];
  /** The target's rules when every one of them counted (its `RateLimit-Policy` is then cached). */
  readonly complete?: TargetRules<C>;
  /** The clock time the decision was taken at. */
  readonly nowMs: number;
  /** The shadow rules' results (they send no header; statistics count them). */
  readonly shadowResults?: readonly RuleResult<C>[];
}

/** The request may proceed. */
export interface AdmittedVerdict<C = unknown> extends VerdictBase<C> {
  readonly outcome: 'admitted';
  /**
   * What would have been answered without shadow mode: the refusal of a shadow rule (or, with the
   * module in shadow mode, of a ban, block or list entry). The request is admitted all the same;
   * `results` hold the enforced rules only.
   */
  readonly shadow?: ShadowedVerdict<C>;
}

/** A refusal that shadow mode reports instead of enforcing. */
export type ShadowedVerdict<C = unknown> = LimitedVerdict<C> | BlockedVerdict<C> | BannedVerdict<C>;

/** A rule's algorithm (or the rule's own `blockDurationMs`) refused the request. */
export interface LimitedVerdict<C = unknown> extends VerdictBase<C> {
  readonly outcome: 'limited';
  /** The refusing rule with the longest wait. */
  readonly rule: RuleResult<C>;
  readonly retryAfterMs: number;
}

/** The client is inside a temporary block (escalation or operator). */
export interface BlockedVerdict<C = unknown> extends VerdictBase<C> {
  readonly outcome: 'blocked';
  readonly untilMs: number;
  readonly retryAfterMs: number;
  readonly ban: Ban;
}

/** The client is permanently banned or deny-listed. */
export interface BannedVerdict<C = unknown> extends VerdictBase<C> {
  readonly outcome: 'banned';
  readonly reason: 'banned' | 'deny-listed';
}

/** The store is down and a rule's outage policy is `deny`. */
export interface UnavailableVerdict<C = unknown> extends VerdictBase<C> {
  readonly outcome: 'unavailable';
  readonly retryAfterMs: number;
}

/** What the engine answers for one request. */
export type Verdict<C = unknown> = AdmittedVerdict<C> | LimitedVerdict<C> | BlockedVerdict<C> | BannedVerdict<C> | UnavailableVerdict<C>;

/** `Retry-After` of a verdict, in whole seconds (at least 1); undefined for an admitted or banned one. */
export function retryAfterSeconds(verdict: Verdict<never>): number | undefined {
  return verdict.outcome === 'limited' || verdict.outcome === 'blocked' || verdict.outcome === 'unavailable'
    ? Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))
    : undefined;
}

/** One rule's result for a request; `windowMs` the window it was counted with (the rule's unless its limits vary per request). */
export function ruleResult<C>(
  targetRule: TargetRule<C>,
  clientKey: string,
  cost: number,
  result: ConsumeResult,
  windowMs = targetRule.rule.windowMs,
): RuleResult<C> {
  const { rule } = targetRule;
  return {
    targetRule,
    clientKey,
    cost,
    result,
    name: rule.name,
    limit: result.limit,
    windowMs,
    remaining: result.remaining,
    resetAtMs: result.resetAtMs,
  };
}

/** The verdict of a client the lists or bans refuse before any rule. */
export function refusal<C>(known: ProtectionVerdict, nowMs: number, results: readonly RuleResult<C>[]): Verdict<C> {
  switch (known.status) {
    case 'blocked':
      return { outcome: 'blocked', ban: known.ban, untilMs: known.untilMs, retryAfterMs: known.untilMs - nowMs, results, nowMs };
    case 'banned':
      return { outcome: 'banned', reason: 'banned', results, nowMs };
    case 'deny-listed':
      return { outcome: 'banned', reason: 'deny-listed', results, nowMs };
    default:
      throw new Error(`Unexpected protection verdict ${known.status}`);
  }
}
