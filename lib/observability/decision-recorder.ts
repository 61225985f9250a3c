import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Decision } from '../engine/decision.js';
import type { DecisionObserver } from '../engine/rampart-engine.js';
import type { RuleResult, Verdict } from '../engine/verdict.js';
import type { EventPublisher } from '../events/event-publisher.js';
import type { ViolationEvent } from '../events/rate-limit-events.js';
import type { BanSource } from '../storage/ban-store.interface.js';
import { decidingRule, DECISION_OUTCOMES, limitType, OUTCOME_INDEX, outcomeOf, type DecisionOutcome } from './decision-outcome.js';
import { LabelSet } from './label-set.js';
import type { StatsConfig } from './observability-config.js';
import { StatsBuckets, type StatsBucket } from './stats-buckets.js';
import type { InstanceStatsSummary } from './stats-summary.js';

/** Whether a count concerns an enforced rule or a shadow one. */
export type CountMode = 'enforced' | 'shadow';

/** Index, in a per-rule count array, of the near-limit admissions (after the outcomes). */
const NEAR_LIMIT = DECISION_OUTCOMES.length;

/** One cumulative series: label values and a count. */
export interface Series<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly value: number;
}

/**
 * Counts every decision of this instance, for the metrics (cumulative counts since startup) and
 * the stats API (counts per time bucket, kept for `stats.retentionMs`). The engine tells it of
 * each verdict; the events tell it of violations, blocks, bans and unbans.
 *
 * Labels carry rule names, outcomes, protocols and sources only, never a client key; rule names
 * and protocols beyond `maxRuleLabels` and `maxProtocolLabels` are counted under `other`.
 */
export class DecisionRecorder implements DecisionObserver {
  readonly instance: string;
  readonly host = hostname();
  readonly pid = process.pid;
  readonly startedAtMs: number;
  /** Per protocol, per rule label: counts by outcome, then near-limit admissions. */
  private readonly counts = new Map<string, Map<string, number[]>>();
  /** Requests refused by a limit (limited or blocked), by `limit_type`. */
  private readonly hits = new Map<string, number>();
  /** Violations, per rule label and mode. */
  private readonly violations = new Map<string, number>();
  /** Blocks, bans and unbans, per `<kind>|<source>|<mode>`. */
  private readonly escalations = new Map<string, number>();
  private readonly rules: LabelSet;
  private readonly protocols: LabelSet;
  private readonly limitTypes: LabelSet;
  readonly buckets: StatsBuckets;
  private stopListening: (() => void) | undefined;

  constructor(
    readonly config: StatsConfig,
    startedAtMs: number,
  ) {
    this.startedAtMs = startedAtMs;
    this.instance = `${this.host}:${this.pid}:${randomBytes(4).toString('hex')}`;
    this.rules = new LabelSet(config.maxRuleLabels);
    this.protocols = new LabelSet(config.maxProtocolLabels);
    this.limitTypes = new LabelSet(config.maxProtocolLabels * 2);
    this.buckets = new StatsBuckets(config);
  }

  /** Counts violations, blocks, bans and unbans from `events` (until `stop`). */
  listen(events: EventPublisher): void {
    this.stopListening?.();
    this.stopListening = events.subscribe({
      onViolation: (event) => this.violated(event),
      onBlock: ({ source, shadow, atMs }) => this.escalated('block', source, shadow === true, atMs),
      onBan: ({ source, shadow, atMs }) => this.escalated('ban', source, shadow === true, atMs),
      onUnban: ({ shadow, atMs }) => this.escalated('unban', 'admin', shadow === true, atMs),
    });
  }

  stop(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /** The hot path: one decided request. */
  decided(decision: Decision<unknown>, verdict: Verdict<unknown>): void {
    const outcome = outcomeOf(verdict as Verdict<never>);
    const index = OUTCOME_INDEX[outcome];
    const protocol = this.protocols.label(decision.request.protocol ?? 'http');
    const byRule = this.countsOf(protocol);
    const rule = this.rules.label(decidingRule(verdict as Verdict<never>));
    this.countOf(byRule, rule)[index]++;
    const bucket = this.buckets.at(verdict.nowMs);
    bucket.outcomes[index]++;
    if (outcome !== 'allowed' && outcome !== 'unavailable') {
      bucket.refusedBy(decision.clientKey);
      if (outcome === 'limited' || outcome === 'blocked') {
        const type = this.limitTypes.label(limitType(protocol, decision.request.method));
        this.hits.set(type, (this.hits.get(type) ?? 0) + 1);
      }
    }
    this.countRules(verdict, byRule, bucket);
  }

  /** Each rule that counted the request (shadow rules included): counted, refusing, or near its limit. */
  private countRules(verdict: Verdict<unknown>, byRule: Map<string, number[]>, bucket: StatsBucket): void {
    this.countResults(verdict.results, byRule, bucket);
    if (verdict.shadowResults !== undefined) this.countResults(verdict.shadowResults, byRule, bucket);
  }

  /** One list of rule results (no list or iterator is made: this is the hot path). */
  private countResults(results: readonly RuleResult<unknown>[], byRule: Map<string, number[]>, bucket: StatsBucket): void {
    const { nearLimitRatio } = this.config;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      const name = this.rules.label(r.name);
      const refused = !r.result.allowed;
      const near = !refused && r.limit - r.remaining >= nearLimitRatio * r.limit;
      if (near) this.countOf(byRule, name)[NEAR_LIMIT]++;
      bucket.ruleCounted(name, refused, near);
    }
  }

  private countsOf(protocol: string): Map<string, number[]> {
    let byRule = this.counts.get(protocol);
    if (byRule === undefined) this.counts.set(protocol, (byRule = new Map()));
    return byRule;
  }

  private countOf(byRule: Map<string, number[]>, rule: string): number[] {
    let counts = byRule.get(rule);
    if (counts === undefined) byRule.set(rule, (counts = new Array<number>(NEAR_LIMIT + 1).fill(0)));
    return counts;
  }

  private violated(event: ViolationEvent): void {
    const shadow = event.shadow === true;
    const key = `${this.rules.label(event.rule)}|${shadow ? 'shadow' : 'enforced'}`;
    this.violations.set(key, (this.violations.get(key) ?? 0) + 1);
    this.buckets.at(event.atMs).violated(shadow);
  }

  /** A block, ban or unban; `shadow` for one of a shadow key (the events say which). */
  private escalated(kind: 'block' | 'ban' | 'unban', source: BanSource, shadow: boolean, atMs: number): void {
    const key = `${kind}|${source}|${shadow ? 'shadow' : 'enforced'}`;
    this.escalations.set(key, (this.escalations.get(key) ?? 0) + 1);
    this.buckets.at(atMs).escalated(kind, shadow);
  }

  /** Decisions since startup: `{ protocol, outcome, rule }`. */
  *decisionSeries(): Iterable<Series<'protocol' | 'outcome' | 'rule'>> {
    for (const [protocol, byRule] of this.counts) {
      for (const [rule, counts] of byRule) {
        for (let i = 0; i < DECISION_OUTCOMES.length; i++)
          if (counts[i] > 0) yield { labels: { protocol, outcome: DECISION_OUTCOMES[i], rule }, value: counts[i] };
      }
    }
  }

  /** Admissions that used at least `nearLimitRatio` of a rule's quota: `{ protocol, rule }`. */
  *nearLimitSeries(): Iterable<Series<'protocol' | 'rule'>> {
    for (const [protocol, byRule] of this.counts) {
      for (const [rule, counts] of byRule) if (counts[NEAR_LIMIT] > 0) yield { labels: { protocol, rule }, value: counts[NEAR_LIMIT] };
    }
  }

  /** Requests refused by a limit or a running block, by `limit_type`. */
  *hitSeries(): Iterable<Series<'limit_type'>> {
    for (const [limit_type, value] of this.hits) yield { labels: { limit_type }, value };
  }

  /** Violations: `{ rule, mode }`. */
  *violationSeries(): Iterable<Series<'rule' | 'mode'>> {
    for (const [key, value] of this.violations) {
      const [rule, mode] = key.split('|');
      yield { labels: { rule, mode }, value };
    }
  }

  /** Blocks, bans and unbans: `{ kind, source, mode }`. */
  *escalationSeries(): Iterable<Series<'kind' | 'source' | 'mode'>> {
    for (const [key, value] of this.escalations) {
      const [kind, source, mode] = key.split('|');
      yield { labels: { kind, source, mode }, value };
    }
  }

  /** This instance's buckets within the retention period, as written to the storage. */
  summary(nowMs: number): InstanceStatsSummary {
    return {
      instance: this.instance,
      host: this.host,
      pid: this.pid,
      startedAtMs: this.startedAtMs,
      atMs: nowMs,
      bucketMs: this.config.bucketMs,
      buckets: this.buckets.summaries(nowMs),
    };
  }
}

/** The outcome's name, typed. */
export type { DecisionOutcome };
