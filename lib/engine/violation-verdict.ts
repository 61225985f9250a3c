import type { Escalator } from '../protection/escalator.js';
import { NO_OUTCOME, type ViolationOutcome } from '../protection/protection-verdict.js';
import type { Decision } from './decision.js';
import type { RampartConfig } from './rampart-config.js';
import { ruleEscalation } from './rule-resolution.js';
import type { TargetRules } from './target-rules.js';
import type { RuleResult, Verdict } from './verdict.js';
import { shadowKey } from './store-keys.js';

/**
 * The verdict of a request a rule denied: its violations are recorded (they may escalate), and the
 * verdict says what followed: banned, blocked, or limited by `violated`.
 */
export async function violationVerdict<C>(
  escalator: Escalator,
  config: Pick<RampartConfig<C>, 'escalation'>,
  decision: Decision<C>,
  results: readonly RuleResult<C>[],
  violated: RuleResult<C>,
  complete: TargetRules<C> | undefined,
  shadow = false,
): Promise<Verdict<C>> {
  const outcome = await recordViolations(escalator, config, decision, results, shadow);
  const { nowMs } = decision;
  const base = complete ? { results, complete, nowMs } : { results, nowMs };
  if (outcome.action === 'ban') return { ...base, outcome: 'banned', reason: 'banned' };
  if (outcome.action === 'block') return { ...base, outcome: 'blocked', ban: outcome.ban, untilMs: outcome.untilMs, retryAfterMs: outcome.untilMs - nowMs };
  return { ...base, outcome: 'limited', rule: violated, retryAfterMs: violated.result.retryAfterMs };
}

/**
 * Records the violations of one request: one per client key, for the rule whose algorithm denied
 * with the longest wait (requests denied by a running block, or by units that requests in flight
 * hold under an outcome-aware rule, are not violations). Returns the
 * strongest escalation that followed. Shadow rules' violations are recorded under the client's
 * shadow key (`shadow:<client key>`), so that their escalation is computed but never enforced.
 */
async function recordViolations<C>(
  escalator: Escalator,
  config: Pick<RampartConfig<C>, 'escalation'>,
  decision: Decision<C>,
  results: readonly RuleResult<C>[],
  shadow: boolean,
): Promise<ViolationOutcome> {
  const byKey = new Map<string, RuleResult<C>>();
  for (const r of results) {
    if (r.result.allowed || r.result.ongoingBlock || r.result.heldInFlight) continue;
    const seen = byKey.get(r.clientKey);
    if (!seen || r.result.retryAfterMs > seen.result.retryAfterMs) byKey.set(r.clientKey, r);
  }
  if (byKey.size === 0) return NO_OUTCOME;
  const { request, nowMs } = decision;
  const outcomes = await Promise.all(
    [...byKey.values()].map(({ targetRule, clientKey, cost, result }) =>
      escalator.recordViolation({
        key: shadow ? shadowKey(clientKey) : clientKey,
        address: decision.address,
        rule: targetRule.rule.name,
        route: targetRule.countsPer,
        method: request.method ?? 'GET',
        protocol: request.protocol ?? 'http',
        hits: result.limit + cost,
        limit: result.limit,
        nowMs,
        escalation: ruleEscalation(config, targetRule.rule),
      }),
    ),
  );
  const weight = (o: ViolationOutcome) => (o.action === 'ban' ? Infinity : o.action === 'block' ? o.untilMs : -Infinity);
  return outcomes.reduce((a, b) => (weight(b) > weight(a) ? b : a), NO_OUTCOME);
}
