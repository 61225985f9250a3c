import { DECISION_OUTCOMES, REFUSED_OUTCOMES } from './decision-outcome.js';
import { emptyOutcomes, outcomeCount, type InstanceStatsSummary } from './stats-summary.js';

/** Most rules `topRules` lists. */
const TOP_RULES = 10;

/** One rule's figures within a window. */
export interface RuleStats {
  readonly rule: string;
  /** Requests it counted. */
  readonly requests: number;
  /** Requests it refused (or, as a shadow rule, would have refused). */
  readonly refused: number;
  /** Admissions that used at least `nearLimitRatio` of its quota. */
  readonly nearLimit: number;
}

/** One instance's share of a window. */
export interface InstanceStats {
  readonly instance: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAtMs: number;
  /** When its summary was taken. */
  readonly reportedAtMs: number;
  readonly requests: number;
  readonly refused: number;
}

/** What the fleet (or one instance) decided within a window. */
export interface StatsReport {
  readonly windowMs: number;
  /** Start of the first bucket counted (the window rounded out to whole buckets). */
  readonly fromMs: number;
  readonly toMs: number;
  /** Decided requests. */
  readonly requests: number;
  /** Requests let through (shadow-mode ones included). */
  readonly admitted: number;
  readonly limited: number;
  readonly blocked: number;
  readonly banned: number;
  /** Refused because the store was down (a rule's `onStoreError: 'deny'`). */
  readonly unavailable: number;
  /** (limited + blocked + banned) / requests; 0 without requests. */
  readonly blockRate: number;
  /** Violations of enforced rules. */
  readonly violations: number;
  /** `violations` per minute of the span counted (`toMs - fromMs`: the window rounded out to whole buckets). */
  readonly violationsPerMinute: number;
  /** Temporary blocks and permanent bans made within the window; those of shadow rules are left out (their would-be refusals are in `shadow`). */
  readonly blocksMade: number;
  readonly bansMade: number;
  /** What shadow mode would have refused (the requests were admitted). */
  readonly shadow: { readonly limited: number; readonly blocked: number; readonly banned: number; readonly violations: number };
  /** Rules by requests refused, then by requests counted (at most 10). */
  readonly topRules: readonly RuleStats[];
  /** Client keys by refusals, most first (enforced and shadow refusals). */
  readonly topKeys: readonly { readonly key: string; readonly refusals: number }[];
  readonly instances: readonly InstanceStats[];
}

/**
 * Sums instances' summaries over the last `windowMs` before `nowMs`: every bucket that overlaps the
 * window counts whole, so rates are over the span counted, `nowMs - fromMs` (at least `windowMs`). Top keys are exact while each instance saw at most `topKeys` offenders per
 * bucket (each keeps only its most refused ones per bucket).
 */
export function sumStats(summaries: readonly InstanceStatsSummary[], windowMs: number, nowMs: number, topKeys: number): StatsReport {
  const bucketMs = summaries[0]?.bucketMs ?? 1;
  const windowStartMs = nowMs - windowMs;
  const fromMs = windowStartMs - (((windowStartMs % bucketMs) + bucketMs) % bucketMs);
  const outcomes = emptyOutcomes();
  let violations = 0;
  let shadowViolations = 0;
  let blocksMade = 0;
  let bansMade = 0;
  const rules = new Map<string, [number, number, number]>();
  const keys = new Map<string, number>();
  const instances: InstanceStats[] = [];
  for (const summary of summaries) {
    let requests = 0;
    let refused = 0;
    for (const bucket of summary.buckets) {
      if (bucket.startMs + summary.bucketMs <= windowStartMs || bucket.startMs > nowMs) continue;
      for (let i = 0; i < DECISION_OUTCOMES.length; i++) {
        const n = bucket.outcomes[i] ?? 0;
        outcomes[i] += n;
        requests += n;
        if (REFUSED_OUTCOMES.includes(DECISION_OUTCOMES[i])) refused += n;
      }
      violations += bucket.violations;
      shadowViolations += bucket.shadowViolations;
      blocksMade += bucket.blocks;
      bansMade += bucket.bans;
      for (const [rule, counted, refusedBy, near] of bucket.rules) {
        const sums = rules.get(rule) ?? [0, 0, 0];
        sums[0] += counted;
        sums[1] += refusedBy;
        sums[2] += near;
        rules.set(rule, sums);
      }
      for (const [key, n] of bucket.keys) keys.set(key, (keys.get(key) ?? 0) + n);
    }
    const { instance, host, pid, startedAtMs, atMs } = summary;
    instances.push({ instance, host, pid, startedAtMs, reportedAtMs: atMs, requests, refused });
  }
  const count = (outcome: (typeof DECISION_OUTCOMES)[number]) => outcomeCount(outcomes, outcome);
  const requests = outcomes.reduce((a, b) => a + b, 0);
  const refused = count('limited') + count('blocked') + count('banned');
  return {
    windowMs,
    fromMs,
    toMs: nowMs,
    requests,
    admitted: count('allowed') + count('shadow_limited') + count('shadow_blocked') + count('shadow_banned'),
    limited: count('limited'),
    blocked: count('blocked'),
    banned: count('banned'),
    unavailable: count('unavailable'),
    blockRate: requests === 0 ? 0 : refused / requests,
    violations,
    violationsPerMinute: (violations * 60_000) / (nowMs - fromMs),
    blocksMade,
    bansMade,
    shadow: { limited: count('shadow_limited'), blocked: count('shadow_blocked'), banned: count('shadow_banned'), violations: shadowViolations },
    topRules: [...rules]
      .map(([rule, [counted, refusedBy, near]]) => ({ rule, requests: counted, refused: refusedBy, nearLimit: near }))
      .sort((a, b) => b.refused - a.refused || b.requests - a.requests || a.rule.localeCompare(b.rule))
      .slice(0, TOP_RULES),
    topKeys: [...keys]
      .map(([key, refusals]) => ({ key, refusals }))
      .sort((a, b) => b.refusals - a.refusals || a.key.localeCompare(b.key))
      .slice(0, topKeys),
    instances: instances.sort((a, b) => a.instance.localeCompare(b.instance)),
  };
}
