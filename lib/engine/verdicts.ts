import type { Escalator } from '../protection/escalator.js';
import type { Decision, Tally } from './decision.js';
import type { RampartConfig } from './rampart-config.js';
import type { TargetRule } from './target-rules.js';
import { isThenable } from '../core/thenable.js';
import type { ProtectionVerdict } from '../protection/protection-verdict.js';
import { refusal, type RuleResult, type ShadowedVerdict, type Verdict } from './verdict.js';
import { violationVerdict } from './violation-verdict.js';

const NONE: readonly never[] = Object.freeze([]);

/**
 * The enforced verdict with what the shadow rules answered: the refusal they would have given, on
 * an admission (an enforced refusal wins), and their results either way.
 */
function withShadow<C>(verdict: Verdict<C>, shadow: Verdict<C>, shadowResults: readonly RuleResult<C>[]): Verdict<C> {
  // A refusal the module's shadow mode already turned into an admission is what would have been answered.
  if (verdict.outcome === 'admitted' && verdict.shadow === undefined && shadow.outcome !== 'admitted' && shadow.outcome !== 'unavailable') {
    return { ...verdict, shadow, shadowResults };
  }
  return shadowResults.length === 0 ? verdict : { ...verdict, shadowResults };
}

/**
 * The verdict of a counted request from its rules' answers: a refusal, the outage policy, an
 * admission or a violation (recorded, and escalated). Shadow rules are judged apart: what they
 * would have refused is reported on the admission, never enforced.
 */
export class Verdicts<C> {
  constructor(
    private readonly config: Pick<RampartConfig<C>, 'shadow' | 'escalation'>,
    private readonly escalator: Escalator,
  ) {}

  /** Whether a rule is in shadow mode: its own `shadow`, or the module's. */
  isShadow(targetRule: TargetRule<C>): boolean {
    return this.config.shadow || targetRule.shadow;
  }

  /** A refusal, or, with the module in shadow mode, the admission that reports it. */
  enforced(verdict: ShadowedVerdict<C>): Verdict<C> {
    return this.config.shadow ? { outcome: 'admitted', results: NONE, nowMs: verdict.nowMs, shadow: verdict } : verdict;
  }

  /** The verdict from the rules' answers: a refusal, the outage policy, admitted, or a violation. */
  conclude(decision: Decision<C>, tally: Tally<C>): Verdict<C> | Promise<Verdict<C>> {
    const { nowMs } = decision;
    const early: Verdict<C> | undefined = tally.refusal
      ? this.enforced(refusal(tally.refusal, nowMs, NONE) as ShadowedVerdict<C>)
      : tally.storeDenied
        ? { outcome: 'unavailable', retryAfterMs: 1_000, results: NONE, nowMs }
        : undefined;
    if (this.config.shadow || decision.rules.shadowed) return this.concludeShadowed(decision, tally.results, tally.shadowRefusal, early);
    return early ?? this.verdictOf(decision, tally.results, false);
  }

  /**
   * The verdict of a target with shadow rules: the enforced rules' verdict, which, when it admits
   * the request, carries what the shadow rules would have answered (their violations recorded and
   * escalated under the client's shadow key).
   */
  private concludeShadowed(
    decision: Decision<C>,
    results: readonly RuleResult<C>[],
    shadowRefusal: ProtectionVerdict | undefined,
    early: Verdict<C> | undefined,
  ): Verdict<C> | Promise<Verdict<C>> {
    const enforced: RuleResult<C>[] = [];
    const shadowResults: RuleResult<C>[] = [];
    for (const r of results) (this.isShadow(r.targetRule) ? shadowResults : enforced).push(r);
    const standing = decision.shadowStanding ?? shadowRefusal;
    // A refusal before the enforced rules' answers (their identity banned, the outage policy) stands;
    // the shadow rules' answers are still judged and reported.
    const verdict = early ?? this.verdictOf(decision, enforced, false);
    const shadow = standing ? refusal(standing, decision.nowMs, shadowResults) : this.verdictOf(decision, shadowResults, true);
    if (isThenable(verdict) || isThenable(shadow)) {
      return Promise.all([verdict, shadow]).then(([v, s]) => withShadow(v, s, shadowResults));
    }
    return withShadow(verdict, shadow, shadowResults);
  }

  /** The verdict of counted rules' results: admitted, or the violation's (recorded under the shadow key for shadow rules). */
  private verdictOf(decision: Decision<C>, results: readonly RuleResult<C>[], shadow: boolean): Verdict<C> | Promise<Verdict<C>> {
    const { nowMs } = decision;
    if (results.length === 0) return { outcome: 'admitted', results: NONE, nowMs };
    const complete = !shadow && !decision.rules.varying && results.length === decision.rules.rules.length ? decision.rules : undefined;
    let violated: RuleResult<C> | undefined;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (!r.result.allowed && (!violated || r.result.retryAfterMs > violated.result.retryAfterMs)) violated = r;
    }
    if (!violated) return complete ? { outcome: 'admitted', results, complete, nowMs } : { outcome: 'admitted', results, nowMs };
    return violationVerdict(this.escalator, this.config, decision, results, violated, complete, shadow);
  }
}
