import * as messages from '../errors/adaptive-messages.js';
import { notPositiveInteger } from '../errors/messages.js';
import { isPositiveInteger } from '../engine/rule-resolution.js';
import type { AdaptiveSettings } from './adaptive-math.js';

/**
 * A rule's adaptive limit: the limit each client gets follows its behaviour. Every setting is
 * optional; `adaptive: true` takes them all by default. See "Adaptive limits" in the README.
 *
 * @example
 * { name: 'api', limit: 100, windowMs: 60_000, adaptive: { learningRate: 0.1, anomalyThreshold: 3, min: 10, max: 200 } }
 */
export interface AdaptiveLimitOptions {
  /** Length of a sampling interval: one sample of the client's request count per interval. @default the rule's windowMs */
  intervalMs?: number;
  /** α, the weight of the newest sample in the moving averages, in (0, 1]. @default 0.1 */
  learningRate?: number;
  /** An interval whose count is more than this many deviations above the baseline is an anomaly. @default 3 */
  anomalyThreshold?: number;
  /** Intervals observed before the anomaly test applies (the baseline is learnt meanwhile). @default 3 */
  warmupIntervals?: number;
  /** Smallest deviation the z-score divides by, in requests per interval (a steady client has σ = 0). @default 1 */
  minDeviation?: number;
  /** Trust of a client never seen, in (0, 1]; at this trust the effective limit is the base limit. @default 0.5 */
  initialTrust?: number;
  /** Share of the distance to full trust gained by each interval without anomaly or refusal, in (0, 1]. @default 0.1 */
  trustGain?: number;
  /** Share of the trust lost in an interval that is an anomaly, in [0, 1]. @default 0.5 */
  anomalyPenalty?: number;
  /** Share of the trust lost in an interval where the rule refused the client, in [0, 1]. @default 0.2 */
  violationPenalty?: number;
  /**
   * Lowest effective limit. Under dynamic limits it scales with the request's limit: ⌊min × plan
   * limit / rule limit⌋, at least 1. @default 1
   */
  min?: number;
  /**
   * Highest effective limit: above the base limit, trusted clients get more than it. Under dynamic
   * limits it scales like `min`. @default the base limit
   */
  max?: number;
  /** How long the state of a client that makes no request is kept (memory, store). @default 86_400_000 (a day) */
  retentionMs?: number;
}

export const ADAPTIVE_FIELDS: readonly (keyof AdaptiveLimitOptions)[] = [
  'intervalMs',
  'learningRate',
  'anomalyThreshold',
  'warmupIntervals',
  'minDeviation',
  'initialTrust',
  'trustGain',
  'anomalyPenalty',
  'violationPenalty',
  'min',
  'max',
  'retentionMs',
];

const DAY_MS = 86_400_000;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Fractions: each setting's test and the range its message names. */
const FRACTIONS: readonly [keyof AdaptiveLimitOptions, (v: number) => boolean, string, number][] = [
  ['learningRate', (v) => v > 0 && v <= 1, '(0, 1]', 0.1],
  ['initialTrust', (v) => v > 0 && v <= 1, '(0, 1]', 0.5],
  ['trustGain', (v) => v > 0 && v <= 1, '(0, 1]', 0.1],
  ['anomalyPenalty', (v) => v >= 0 && v <= 1, '[0, 1]', 0.5],
  ['violationPenalty', (v) => v >= 0 && v <= 1, '[0, 1]', 0.2],
  ['anomalyThreshold', (v) => v > 0, '(0, ∞)', 3],
  ['minDeviation', (v) => v > 0, '(0, ∞)', 1],
];

/** What the rule brings to its adaptive settings. */
export interface AdaptiveRuleFacts {
  readonly limit: number;
  readonly windowMs: number;
  /** The rule's fixed cost; undefined for a cost function. */
  readonly cost?: number;
}

/**
 * Checks a rule's `adaptive` option and fills in its defaults; undefined when the rule has none.
 * Problems are appended (NaN, Infinity, negative, out of range: never an unlimited pass).
 */
export function resolveAdaptive(value: unknown, rule: AdaptiveRuleFacts, path: string, problems: string[]): AdaptiveSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    problems.push(messages.badAdaptive(path, value));
    return undefined;
  }
  const given = (value === true ? {} : value) as Record<string, unknown>;
  for (const field of Object.keys(given)) {
    if (!(ADAPTIVE_FIELDS as readonly string[]).includes(field)) problems.push(messages.unknownAdaptiveField(path, field, ADAPTIVE_FIELDS));
  }
  const settings: Record<string, number | undefined> = {};
  for (const [field, valid, range, fallback] of FRACTIONS) {
    const v = given[field] ?? fallback;
    if (!isNumber(v) || !valid(v)) problems.push(messages.notInRange(`${path}.${field}`, v, range));
    settings[field] = v as number;
  }
  const integers: [keyof AdaptiveLimitOptions, unknown][] = [
    ['intervalMs', given.intervalMs ?? rule.windowMs],
    ['warmupIntervals', given.warmupIntervals ?? 3],
    ['min', given.min ?? 1],
    ['max', given.max],
    ['retentionMs', given.retentionMs ?? DAY_MS],
  ];
  for (const [field, v] of integers) {
    // A default taken from the rule's windowMs is the rule's problem, reported there.
    if (v !== undefined && !isPositiveInteger(v) && given[field] !== undefined) problems.push(notPositiveInteger(`${path}.${field}`, v));
    settings[field] = v as number | undefined;
  }
  const { min, max, intervalMs, retentionMs } = settings as Record<string, number>;
  if (isPositiveInteger(min)) {
    const [ceiling, name] = max !== undefined ? [max, `${path}.max`] : [rule.limit, 'the rule limit'];
    if (isPositiveInteger(ceiling) && min > ceiling) problems.push(messages.adaptiveMinAboveMax(path, min, ceiling, name));
    if (rule.cost !== undefined && rule.cost > min) problems.push(messages.adaptiveMinBelowCost(path, min, rule.cost));
  }
  if (isPositiveInteger(retentionMs) && isPositiveInteger(intervalMs) && retentionMs < intervalMs) {
    problems.push(messages.adaptiveRetentionBelowInterval(path, retentionMs, intervalMs));
  }
  if (max === undefined) delete settings.max;
  settings.limit = rule.limit;
  const resolved = Object.freeze(settings) as unknown as AdaptiveSettings;
  asGiven.set(resolved, value as AdaptiveLimitOptions | true);
  return resolved;
}

/** Each rule's resolved settings, and the option they were resolved from. */
const asGiven = new WeakMap<AdaptiveSettings, AdaptiveLimitOptions | true>();

/**
 * The `adaptive` option that `settings` were resolved from: a rule merged over another resolves it
 * again, so that its defaults follow the merged rule (`intervalMs` its window, `max` its limit).
 */
export function givenAdaptive(settings: AdaptiveSettings): AdaptiveLimitOptions | true {
  return asGiven.get(settings) ?? settings;
}
