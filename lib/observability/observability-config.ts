import { checkPositiveIntegers, switchable } from '../core/option-objects.js';
import { MAX_CLIENT_KEY_LENGTH } from '../engine/store-keys.js';
import * as messages from '../errors/messages.js';
import { MAX_KEYS_PER_BUCKET } from './stats-buckets.js';

/** The environment variable that turns the module's shadow mode on or off without a deploy (wins over the `shadow` option). */
export const SHADOW_ENV = 'RAMPART_SHADOW';

/**
 * In-process statistics: what the Prometheus metrics, the admin API's `GET /rate-limit/stats` and
 * the alerts read. Every instance keeps counts per time bucket and writes them to the storage
 * every `reportIntervalMs`, so that the stats API sums the whole fleet.
 */
export interface StatsOptions {
  /** Width of the time buckets counts are kept in, in milliseconds; windows are rounded up to whole buckets. @default 10_000 */
  bucketMs?: number;
  /** How long buckets are kept, in milliseconds: the longest `windowMs` the stats API answers. @default 900_000 (15 minutes) */
  retentionMs?: number;
  /** How often each instance writes its summary to the storage, in milliseconds. @default 5_000 */
  reportIntervalMs?: number;
  /** An admission is near its rule's limit when it has used at least this share of the quota (`limit - remaining >= nearLimitRatio * limit`). @default 0.8 */
  nearLimitRatio?: number;
  /** Most offending client keys kept per bucket (and listed by the stats API). @default 20 */
  topKeys?: number;
  /** Most distinct rule names used as label values; further names are counted as `other`. @default 100 */
  maxRuleLabels?: number;
  /** Most distinct protocols used as label values; further ones are counted as `other`. @default 16 */
  maxProtocolLabels?: number;
}

export type StatsConfig = Required<StatsOptions>;

export const DEFAULT_STATS: StatsConfig = Object.freeze({
  bucketMs: 10_000,
  retentionMs: 900_000,
  reportIntervalMs: 5_000,
  nearLimitRatio: 0.8,
  topKeys: 20,
  maxRuleLabels: 100,
  maxProtocolLabels: 16,
});

/** Most bytes one instance's summary may take (a quarter of a MongoDB document's 16 MB limit). */
export const SUMMARY_BUDGET_BYTES = 4 * 1024 * 1024;

/**
 * Most bytes one bucket's summary takes as a BSON document (JSON takes less): its counts, at most
 * `maxRuleLabels` + 1 rules (names of up to 64 characters, `other` past the bound) and `topKeys`
 * keys (up to 128 characters, of up to 4 bytes each), with BSON's per-element overhead.
 */
export function statsBucketBytes(stats: Pick<StatsConfig, 'topKeys' | 'maxRuleLabels'>): number {
  return 512 + (stats.maxRuleLabels + 1) * 128 + stats.topKeys * (4 * MAX_CLIENT_KEY_LENGTH + 32);
}

/** The `stats` option checked, its defaults filled in (a field set to undefined takes its default); false when statistics are off. */
export function checkStats(given: unknown, problems: string[]): StatsConfig | false {
  const stats = switchable(given, 'stats', DEFAULT_STATS, messages.badStats, problems);
  if (stats === false || stats === DEFAULT_STATS) return stats;
  const before = problems.length;
  checkPositiveIntegers(stats, 'stats', ['bucketMs', 'retentionMs', 'reportIntervalMs', 'topKeys', 'maxRuleLabels', 'maxProtocolLabels'], problems);
  const ratio = stats.nearLimitRatio;
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 1)) problems.push(messages.badNearLimitRatio(ratio));
  if (problems.length === before) checkStatsBounds(stats, problems);
  return Object.freeze(stats);
}

/** The combinations of valid `stats` fields: buckets kept, summaries written within their lifetime, top keys within a bucket's. */
function checkStatsBounds(stats: StatsConfig, problems: string[]): void {
  const { bucketMs, retentionMs, reportIntervalMs, topKeys } = stats;
  if (retentionMs < bucketMs) problems.push(messages.retentionBelowBucket(retentionMs, bucketMs));
  if (topKeys > MAX_KEYS_PER_BUCKET) problems.push(messages.topKeysAboveCapacity(topKeys, MAX_KEYS_PER_BUCKET));
  else {
    // Buckets overlapping the retention period: the partial newest one and the others.
    const kept = Math.ceil(retentionMs / bucketMs) + 1;
    const bucketBytes = statsBucketBytes(stats);
    const max = Math.max(2, Math.floor(SUMMARY_BUDGET_BYTES / bucketBytes));
    if (kept > max) {
      const fix = { bucketMs: Math.ceil(retentionMs / (max - 1)), retentionMs: (max - 1) * bucketMs };
      problems.push(messages.tooManyStatsBuckets(kept, max, bucketBytes, SUMMARY_BUDGET_BYTES, fix));
    }
  }
  if (reportIntervalMs >= retentionMs) problems.push(messages.reportIntervalNotBelowRetention(reportIntervalMs, retentionMs));
}

/**
 * The module's shadow mode: `RAMPART_SHADOW` when set (`true`/`1`/`on`/`yes` or
 * `false`/`0`/`off`/`no`), else the `shadow` option.
 */
export function checkShadow(given: unknown, env: Readonly<Record<string, string | undefined>>, problems: string[]): boolean {
  const flag = env[SHADOW_ENV]?.trim().toLowerCase();
  if (flag !== undefined && flag !== '') {
    if (['true', '1', 'on', 'yes'].includes(flag)) return true;
    if (['false', '0', 'off', 'no'].includes(flag)) return false;
    problems.push(messages.badShadowEnv(SHADOW_ENV, env[SHADOW_ENV]));
    return false;
  }
  if (given !== undefined && typeof given !== 'boolean') problems.push(messages.badBoolean('shadow', given));
  return given === true;
}
