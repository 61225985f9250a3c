import { describe } from '../errors/describe.js';
import * as messages from '../errors/messages.js';
import { isPositiveInteger } from '../engine/rule-resolution.js';

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

/** The `stats` option checked, its defaults filled in; false when statistics are off. */
export function checkStats(given: unknown, problems: string[]): StatsConfig | false {
  if (given === false) return false;
  if (given === undefined || given === true) return DEFAULT_STATS;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    problems.push(`stats must be an object of statistics options or false, got ${describe(given)}.`);
    return DEFAULT_STATS;
  }
  const fields = Object.keys(DEFAULT_STATS);
  for (const field of Object.keys(given)) {
    if (!fields.includes(field)) problems.push(`stats.${field} is not an option; the options are ${fields.join(', ')}.`);
  }
  const stats = { ...DEFAULT_STATS, ...(given as StatsOptions) };
  for (const field of ['bucketMs', 'retentionMs', 'reportIntervalMs', 'topKeys', 'maxRuleLabels', 'maxProtocolLabels'] as const) {
    if (!isPositiveInteger(stats[field])) problems.push(messages.notPositiveInteger(`stats.${field}`, stats[field]));
  }
  const ratio = stats.nearLimitRatio;
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 1))
    problems.push(`stats.nearLimitRatio must be a number above 0 and at most 1, got ${describe(ratio)}.`);
  if (isPositiveInteger(stats.bucketMs) && isPositiveInteger(stats.retentionMs) && stats.retentionMs < stats.bucketMs) {
    problems.push(`stats.retentionMs (${stats.retentionMs}) must be at least stats.bucketMs (${stats.bucketMs}).`);
  }
  return Object.freeze(stats);
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
    problems.push(`${SHADOW_ENV} must be true, 1, on, yes, false, 0, off or no, got ${describe(env[SHADOW_ENV])}.`);
    return false;
  }
  if (given !== undefined && typeof given !== 'boolean') problems.push(messages.badBoolean('shadow', given));
  return given === true;
}
