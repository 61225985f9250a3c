import type { AdaptiveSettings } from '../../lib/adaptive/adaptive-math.js';

/** Adaptive settings with small numbers, so that every step can be computed by hand. */
export const HAND_SETTINGS: AdaptiveSettings = Object.freeze({
  intervalMs: 1_000,
  learningRate: 0.5,
  anomalyThreshold: 2,
  warmupIntervals: 2,
  minDeviation: 1,
  initialTrust: 0.5,
  trustGain: 0.5,
  anomalyPenalty: 0.5,
  violationPenalty: 0.25,
  min: 2,
  max: 20,
  retentionMs: 60_000,
  limit: 10,
});
