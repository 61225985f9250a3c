/**
 * The mathematics of adaptive limits, as pure functions of a client's state, the rule's settings
 * and the time (see "Adaptive limits" in the README for the formulas and why).
 *
 * Time is cut into intervals of `intervalMs`, aligned on multiples of it (every instance of a fleet
 * cuts them alike). A sample is the number of requests a client made under the rule in one
 * interval, refused ones included; an interval without requests is no sample. Each sample is folded into an exponential moving
 * average of the samples (the baseline) and of their squared deviation (the variance); the open
 * interval is an anomaly as soon as its running count is more than `anomalyThreshold` deviations
 * above the baseline. A trust score in [0, 1] falls at once with an anomaly or a refusal (once per
 * interval each) and grows at the close of every interval with neither (an idle one only up to
 * `initialTrust`); the effective limit is the
 * base limit times `trust / initialTrust`, clamped to `[min, max]` (in proportion to the base limit
 * when it is not the rule's own: a plan's).
 */

/** An adaptive rule's settings, checked and with their defaults (see `AdaptiveLimitOptions`). */
export interface AdaptiveSettings {
  readonly intervalMs: number;
  /** α in (0, 1]. */
  readonly learningRate: number;
  /** T > 0, in deviations. */
  readonly anomalyThreshold: number;
  /** Closed intervals folded before the anomaly test applies. */
  readonly warmupIntervals: number;
  /** Floor of the deviation the z-score divides by, in requests. */
  readonly minDeviation: number;
  readonly initialTrust: number;
  readonly trustGain: number;
  readonly anomalyPenalty: number;
  readonly violationPenalty: number;
  readonly min: number;
  /** Undefined: the base limit. */
  readonly max?: number;
  /** The rule's own limit: `min` and `max` are given against it, and scale with a base limit that differs (a plan's). */
  readonly limit: number;
  /** How long the state of a client that makes no request is kept. */
  readonly retentionMs: number;
}

/** One client's state under one adaptive rule: a fixed handful of numbers (JSON-serialisable). */
export interface AdaptiveState {
  /** Start of the open interval (a multiple of `intervalMs`). */
  startMs: number;
  /** Requests in the open interval so far. */
  count: number;
  /** 1 when the open interval was penalised as an anomaly, 2 when for a refusal, 3 for both. */
  flags: number;
  /** Closed intervals folded into the baseline (at most `MAX_SAMPLES`). */
  samples: number;
  /** μ: the baseline, requests per interval. */
  mean: number;
  /** σ²: the variance of the samples around the baseline. */
  variance: number;
  /** z-score of the last closed interval (0 before the second). */
  z: number;
  /** Trust in [0, 1]. */
  trust: number;
}

export const ANOMALY = 1;
export const REFUSED = 2;
/** `samples` stops counting here: only its comparison with the warm-up and with 1/α matters. */
const MAX_SAMPLES = 1_000_000;
/** Floating-point slack of the effective limit's rounding down: 0.5 × 200 / 0.5 is 200, not 199. */
const ROUNDING_SLACK = 1e-9;

/** The interval that contains `nowMs`: its start. */
export function intervalStart(nowMs: number, intervalMs: number): number {
  return Math.floor(nowMs / intervalMs) * intervalMs;
}

/** The state of a client never seen: no baseline, `initialTrust`, its interval open at `nowMs`. */
export function freshState(settings: AdaptiveSettings, nowMs: number): AdaptiveState {
  return { startMs: intervalStart(nowMs, settings.intervalMs), count: 0, flags: 0, samples: 0, mean: 0, variance: 0, z: 0, trust: settings.initialTrust };
}

/** σ as the z-score uses it: √variance, at least `minDeviation`. */
export function deviation(state: AdaptiveState, settings: AdaptiveSettings): number {
  return Math.max(Math.sqrt(state.variance), settings.minDeviation);
}

/**
 * Folds one closed interval's sample `x` into the baseline: with n samples folded before it and
 * α = max(learningRate, 1 / (n + 1)) (the plain mean and variance while 1/(n+1) is larger, so the
 * first samples are not weighed against a baseline of 0), d = x − μ:
 * z = d / max(σ, minDeviation) (0 for the first sample), μ ← μ + α·d, σ² ← (1 − α)·(σ² + α·d²).
 * Then the trust of an interval without anomaly or refusal grows: t ← t + trustGain·(1 − t).
 */
export function foldSample(state: AdaptiveState, settings: AdaptiveSettings, x: number, flags: number): void {
  const n = state.samples;
  const alpha = Math.max(settings.learningRate, 1 / (n + 1));
  const d = x - state.mean;
  state.z = n === 0 ? 0 : d / deviation(state, settings);
  state.mean += alpha * d;
  state.variance = (1 - alpha) * (state.variance + alpha * d * d);
  state.samples = Math.min(n + 1, MAX_SAMPLES);
  if (flags === 0) state.trust += settings.trustGain * (1 - state.trust);
}

/**
 * `k` idle intervals (no request): not samples, so the baseline stays the client's rate while it is
 * active (a client that pauses is not measured against a baseline its pause decayed); each counts
 * as a good interval for the trust, in closed form: t ← 1 − (1 − t)·(1 − trustGain)^k, but never
 * above `initialTrust`. Waiting heals a penalty; only requests earn more than a new client has, so
 * that a fresh identity cannot wait its way to a limit above the base before its first samples are
 * tested. A trust above `initialTrust` stays as it is.
 */
export function passIdle(state: AdaptiveState, settings: AdaptiveSettings, k: number): void {
  if (state.trust >= settings.initialTrust) return;
  state.trust = Math.min(1 - (1 - state.trust) * Math.pow(1 - settings.trustGain, k), settings.initialTrust);
}

/**
 * Brings the state to the interval of `nowMs`: the open interval is closed and folded with its
 * count (when it has requests), and the intervals between it and now pass idle. Returns whether an
 * interval closed (the state is then written back to the store). A clock that went back changes
 * nothing.
 */
export function roll(state: AdaptiveState, settings: AdaptiveSettings, nowMs: number): boolean {
  const start = intervalStart(nowMs, settings.intervalMs);
  if (start <= state.startMs) return false;
  let idle = Math.floor((start - state.startMs) / settings.intervalMs);
  if (state.count > 0) {
    foldSample(state, settings, state.count, state.flags);
    idle--;
  }
  if (idle > 0) passIdle(state, settings, idle);
  state.startMs = start;
  state.count = 0;
  state.flags = 0;
  return true;
}

/**
 * Counts one request in the open interval (call `roll` first). Once the warm-up is over, the
 * interval is an anomaly when its running count c exceeds μ + T·max(σ, minDeviation), that is when
 * its z-score so far passes T: the trust is cut at once, t ← t·(1 − anomalyPenalty), once per
 * interval.
 */
export function countRequest(state: AdaptiveState, settings: AdaptiveSettings): void {
  state.count++;
  if ((state.flags & ANOMALY) !== 0 || state.samples < settings.warmupIntervals) return;
  if (state.count > state.mean + settings.anomalyThreshold * deviation(state, settings)) {
    state.flags |= ANOMALY;
    state.trust *= 1 - settings.anomalyPenalty;
  }
}

/** A request the rule refused (a violation): t ← t·(1 − violationPenalty), once per interval. */
export function countRefusal(state: AdaptiveState, settings: AdaptiveSettings): void {
  if ((state.flags & REFUSED) !== 0) return;
  state.flags |= REFUSED;
  state.trust *= 1 - settings.violationPenalty;
}

/** The z-score of the open interval's count so far (0 before the warm-up is over). */
export function runningZ(state: AdaptiveState, settings: AdaptiveSettings): number {
  return state.samples < settings.warmupIntervals ? 0 : (state.count - state.mean) / deviation(state, settings);
}

/**
 * A bound (`min`, `max`) under base limit `base`: itself under the rule's own limit R, else scaled
 * in proportion, max(⌊bound × base / R⌋, 1), so that a plan of 10× the rule's limit gets 10× its
 * range and a plan below `min` is not lifted above itself by it.
 */
export function scaledBound(bound: number, settings: AdaptiveSettings, base: number): number {
  return base === settings.limit ? bound : Math.max(Math.floor((bound * base) / settings.limit + ROUNDING_SLACK), 1);
}

/** The effective limit: ⌊base × trust / initialTrust⌋, clamped to [min, max ?? base] (scaled, see `scaledBound`). */
export function effectiveLimit(state: AdaptiveState, settings: AdaptiveSettings, base: number): number {
  const scaled = Math.floor((base * state.trust) / settings.initialTrust + ROUNDING_SLACK);
  const max = settings.max === undefined ? base : scaledBound(settings.max, settings, base);
  return Math.min(Math.max(scaled, scaledBound(settings.min, settings, base)), max);
}

/** Whether `value` is a state these functions can work on (a stored one may be anything). */
export function isAdaptiveState(value: unknown): value is AdaptiveState {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  return (
    finite(s.startMs) &&
    Number.isSafeInteger(s.count) &&
    (s.count as number) >= 0 &&
    Number.isInteger(s.flags) &&
    (s.flags as number) >= 0 &&
    (s.flags as number) <= 3 &&
    Number.isSafeInteger(s.samples) &&
    (s.samples as number) >= 0 &&
    finite(s.mean) &&
    s.mean >= 0 &&
    finite(s.variance) &&
    s.variance >= 0 &&
    finite(s.z) &&
    finite(s.trust) &&
    s.trust >= 0 &&
    s.trust <= 1
  );
}
