import { mostRestrictive } from '../core/headers.js';
import type { RuleResult, Verdict } from '../engine/verdict.js';

/**
 * What a decided request came to, as metrics and statistics name it: the verdict's outcome
 * (`admitted` is `allowed`), or, for a request shadow mode admitted, what would have been answered.
 */
export const DECISION_OUTCOMES = Object.freeze([
  'allowed',
  'limited',
  'blocked',
  'banned',
  'unavailable',
  'shadow_limited',
  'shadow_blocked',
  'shadow_banned',
] as const);

export type DecisionOutcome = (typeof DECISION_OUTCOMES)[number];

/** Index of each outcome in `DECISION_OUTCOMES` (the layout of per-outcome count arrays). */
export const OUTCOME_INDEX: Readonly<Record<DecisionOutcome, number>> = Object.freeze(
  Object.fromEntries(DECISION_OUTCOMES.map((outcome, i) => [outcome, i])) as Record<DecisionOutcome, number>,
);

/** Outcomes that refused the request (what the block rate counts): a rule, a block or a ban. */
export const REFUSED_OUTCOMES: readonly DecisionOutcome[] = Object.freeze(['limited', 'blocked', 'banned']);
/** Outcomes shadow mode reported instead of enforcing. */
export const SHADOW_OUTCOMES: readonly DecisionOutcome[] = Object.freeze(['shadow_limited', 'shadow_blocked', 'shadow_banned']);

/** The outcome of a verdict. */
export function outcomeOf(verdict: Verdict<never>): DecisionOutcome {
  switch (verdict.outcome) {
    case 'admitted': {
      const { shadow } = verdict;
      return shadow === undefined
        ? 'allowed'
        : shadow.outcome === 'limited'
          ? 'shadow_limited'
          : shadow.outcome === 'blocked'
            ? 'shadow_blocked'
            : 'shadow_banned';
    }
    case 'limited':
      return 'limited';
    case 'blocked':
      return 'blocked';
    case 'banned':
      return 'banned';
    case 'unavailable':
      return 'unavailable';
  }
}

/**
 * The rule a verdict's outcome is attributed to: the rule that refused it (for a block or ban its
 * violation started: the violated rule), for an admission the rule with the fewest requests left
 * (the one `X-RateLimit-*` headers describe); `''` when no rule counted the request (refused by a
 * running block, a ban or a list entry, a store outage, or a target without rules).
 */
export function decidingRule(verdict: Verdict<never>): string {
  if (verdict.outcome === 'limited') return verdict.rule.name;
  const judged = verdict.outcome === 'admitted' && verdict.shadow !== undefined ? verdict.shadow : verdict;
  if (judged.outcome === 'limited') return judged.rule.name;
  const { results } = judged;
  if (results.length === 0) return '';
  return (denied(results) ?? mostRestrictive(results))?.name ?? '';
}

/** The denied result with the longest wait, if any. */
function denied(results: readonly RuleResult<never>[]): RuleResult<never> | undefined {
  let chosen: RuleResult<never> | undefined;
  for (const r of results) if (!r.result.allowed && (chosen === undefined || r.result.retryAfterMs > chosen.result.retryAfterMs)) chosen = r;
  return chosen;
}

/**
 * Seed-style `limit_type` of a request: `http`, `ws_connection` and `ws_message` for WebSocket
 * connections and messages, `graphql`, `graphql_ws_connection` and `graphql_ws_event` for GraphQL
 * operations and subscriptions, `rpc` for microservice calls, or the protocol's own name.
 */
export function limitType(protocol: string, method: string | undefined): string {
  switch (protocol) {
    case 'ws':
      return method === 'CONNECT' ? 'ws_connection' : 'ws_message';
    case 'graphql-ws':
      return method === 'connect' ? 'graphql_ws_connection' : 'graphql_ws_event';
    default:
      return protocol;
  }
}
