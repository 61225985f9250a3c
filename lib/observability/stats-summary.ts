import { DECISION_OUTCOMES, type DecisionOutcome } from './decision-outcome.js';

/**
 * What one instance decided within one time bucket, as it is written to the storage. Plain JSON
 * with arrays for named figures, so that no client key or rule name is ever a field name.
 */
export interface StatsBucketSummary {
  /** Epoch ms at which the bucket starts (a multiple of the bucket width). */
  readonly startMs: number;
  /** Decided requests by outcome, in the order of `DECISION_OUTCOMES`. */
  readonly outcomes: readonly number[];
  /** Violations recorded by enforced rules. */
  readonly violations: number;
  /** Violations of shadow rules (what would have been). */
  readonly shadowViolations: number;
  /** Temporary blocks made (by escalation or operators), shadow ones left out. */
  readonly blocks: number;
  /** Permanent bans made, shadow ones left out. */
  readonly bans: number;
  /** Per rule: `[name, requests counted, requests it refused (or would have, in shadow mode), near-limit admissions]`. */
  readonly rules: readonly (readonly [string, number, number, number])[];
  /** The most refused client keys: `[key, refusals]`, most first (at most `topKeys` of them). */
  readonly keys: readonly (readonly [string, number])[];
}

/** One instance's statistics: who it is, and its buckets within the retention period. */
export interface InstanceStatsSummary {
  /** Unique per process: `<host>:<pid>:<random>`. */
  readonly instance: string;
  readonly host: string;
  readonly pid: number;
  /** Epoch ms at which this instance started recording. */
  readonly startedAtMs: number;
  /** Epoch ms at which this summary was taken. */
  readonly atMs: number;
  /** Width of each bucket, in milliseconds. */
  readonly bucketMs: number;
  /** Oldest first. */
  readonly buckets: readonly StatsBucketSummary[];
}

/** A zeroed count per outcome. */
export function emptyOutcomes(): number[] {
  return DECISION_OUTCOMES.map(() => 0);
}

/** The count of `outcome` in a per-outcome array. */
export function outcomeCount(outcomes: readonly number[], outcome: DecisionOutcome): number {
  return outcomes[DECISION_OUTCOMES.indexOf(outcome)] ?? 0;
}
