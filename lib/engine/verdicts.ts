import type { Escalator } from '../protection/escalator.js';
import type { Decision, Tally } from './decision.js';
import type { RampartConfig } from './rampart-config.js';
import type { TargetRule } from './target-rules.js';
import { refusal, type RuleResult, type ShadowedVerdict, type Verdict } from './verdict.js';
import { violationVerdict } from './violation-verdict.js';

const NONE: readonly never[] = Object.freeze([]);

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
    if (tally.refusal) return this.enforced(refusal(tally.refusal, nowMs, NONE) as ShadowedVerdict<C>);
    if (tally.storeDenied) return { outcome: 'unavailable', retryAfterMs: 1_000, results: NONE, nowMs };
    if (this.config.shadow || decision.rules.shadowed) return this.concludeShadowed(decision, tally.results);
    return this.verdictOf(decision, tally.results, false);
  }

  /**
   * The verdict of a target with shadow rules: the enforced rules' verdict, which, when it admits
   * the request, carries what the shadow rules would have answered (their violations recorded and
   * escalated under the client's shadow key).
   */
  private async concludeShadowed(decision: Decision<C>, results: readonly RuleResult<C>[]): Promise<Verdict<C>> {
    const enforced = results.filter((r) => !this.isShadow(r.targetRule));
    const shadowResults = results.filter((r) => this.isShadow(r.targetRule));
    const { shadowStanding } = decision;
    const [verdict, shadow] = await Promise.all([
      this.verdictOf(decision, enforced, false),
      shadowStanding ? refusal(shadowStanding, decision.nowMs, shadowResults) : this.verdictOf(decision, shadowResults, true),
    ]);
    if (verdict.outcome !== 'admitted' || (shadow.outcome === 'admitted' && shadowResults.length === 0)) return verdict;
    return shadow.outcome === 'admitted' ? { ...verdict, shadowResults } : { ...verdict, shadow: shadow as ShadowedVerdict<C> };
  }

  /** The verdict of counted rules' results: admitted, or the violation's (recorded under the shadow key for shadow rules). */
  private verdictOf(decision: Decision<C>, results: readonly RuleResult<C>[], shadow: boolean): Verdict<C> | Promise<Verdict<C>> {
    const { nowMs } = decision;
    if (results.length === 0) return { outcome: 'admitted', results: NONE, nowMs };
    const complete = !shadow && results.length === decision.rules.rules.length ? decision.rules : undefined;
    let violated: RuleResult<C> | undefined;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (!r.result.allowed && (!violated || r.result.retryAfterMs > violated.result.retryAfterMs)) violated = r;
    }
    if (!violated) return complete ? { outcome: 'admitted', results, complete, nowMs } : { outcome: 'admitted', results, nowMs };
    return violationVerdict(this.escalator, this.config, decision, results, violated, complete, shadow);
  }
}
