import {
  countRefusal,
  countRequest,
  effectiveLimit,
  foldSample,
  freshState,
  isAdaptiveState,
  roll,
  runningZ,
  scaledBound,
  type AdaptiveState,
} from '../../lib/adaptive/adaptive-math.js';
import { FakeClock } from '../support/fake-clock.js';
import { HAND_SETTINGS } from './settings.js';

const S = HAND_SETTINGS;
const BASE = 10;

/** `n` requests at the clock's time, each rolled and counted as the tracker does. */
function requests(state: AdaptiveState, clock: FakeClock, n: number): void {
  for (let i = 0; i < n; i++) {
    roll(state, S, clock.now());
    countRequest(state, S);
  }
}

describe('adaptive limits: the mathematics, against hand-computed sequences', () => {
  it('learns a baseline, cuts the trust during a burst, and recovers over idle intervals', () => {
    const clock = new FakeClock(0);
    const state = freshState(S, clock.now());
    expect(state).toEqual({ startMs: 0, count: 0, flags: 0, samples: 0, mean: 0, variance: 0, z: 0, trust: 0.5 });
    // trust 0.5 = initialTrust: the base limit, 10 × 0.5 / 0.5.
    expect(effectiveLimit(state, S, BASE)).toBe(10);

    // Interval 0: 4 requests, no anomaly test (0 samples < warm-up 2).
    requests(state, clock, 4);
    expect(state.count).toBe(4);
    expect(state.flags).toBe(0);

    // t = 1000 closes interval 0 with x = 4: n = 0, α = max(0.5, 1/1) = 1, d = 4, z = 0 (first sample),
    // μ = 0 + 1·4 = 4, σ² = (1 − 1)·(0 + 1·16) = 0; a good interval: t = 0.5 + 0.5·(1 − 0.5) = 0.75.
    clock.set(1_000);
    requests(state, clock, 6);
    expect(state).toMatchObject({ startMs: 1_000, count: 6, samples: 1, mean: 4, variance: 0, z: 0, trust: 0.75 });
    // ⌊10 × 0.75 / 0.5⌋ = 15.
    expect(effectiveLimit(state, S, BASE)).toBe(15);

    // t = 2000 closes interval 1 with x = 6: n = 1, α = max(0.5, 1/2) = 0.5, d = 2, z = 2 / max(√0, 1) = 2,
    // μ = 4 + 0.5·2 = 5, σ² = 0.5·(0 + 0.5·4) = 1; t = 0.75 + 0.5·0.25 = 0.875, limit ⌊17.5⌋ = 17.
    clock.set(2_000);
    requests(state, clock, 7);
    expect(state).toMatchObject({ samples: 2, mean: 5, variance: 1, z: 2, trust: 0.875, flags: 0 });
    expect(effectiveLimit(state, S, BASE)).toBe(17);
    // Warmed up (2 samples): the anomaly line is μ + T·max(σ, 1) = 5 + 2·1 = 7. Seven requests are not above it.
    expect(runningZ(state, S)).toBe(2);

    // The 8th passes it: an anomaly, t = 0.875·(1 − 0.5) = 0.4375 at once, limit ⌊10 × 0.4375 / 0.5⌋ = ⌊8.75⌋ = 8.
    requests(state, clock, 1);
    expect(state.flags).toBe(1);
    expect(state.trust).toBe(0.4375);
    expect(effectiveLimit(state, S, BASE)).toBe(8);
    // A 9th request: no second penalty for the same interval.
    requests(state, clock, 1);
    expect(state.trust).toBe(0.4375);
    // The rule refuses one: t = 0.4375·(1 − 0.25) = 0.328125, limit ⌊6.5625⌋ = 6; a second refusal changes nothing.
    countRefusal(state, S);
    countRefusal(state, S);
    expect(state.flags).toBe(3);
    expect(state.trust).toBe(0.328125);
    expect(effectiveLimit(state, S, BASE)).toBe(6);

    // t = 3000 closes interval 2 with x = 9: n = 2, α = max(0.5, 1/3) = 0.5, d = 4, z = 4 / max(√1, 1) = 4,
    // μ = 5 + 2 = 7, σ² = 0.5·(1 + 0.5·16) = 4.5; flagged: no trust gained.
    clock.set(3_000);
    expect(roll(state, S, clock.now())).toBe(true);
    expect(state).toMatchObject({ startMs: 3_000, count: 0, flags: 0, samples: 3, mean: 7, variance: 4.5, z: 4, trust: 0.328125 });

    // Nothing until t = 4500: interval 3 passes without a request. No sample (μ, σ², z and the sample
    // count stay), a good interval: t = 1 − (1 − 0.328125)·(1 − 0.5) = 0.6640625, but idle intervals
    // heal only up to initialTrust: t = 0.5, the base limit.
    clock.set(4_500);
    expect(roll(state, S, clock.now())).toBe(true);
    expect(state).toEqual({ startMs: 4_000, count: 0, flags: 0, samples: 3, mean: 7, variance: 4.5, z: 4, trust: 0.5 });
    expect(effectiveLimit(state, S, BASE)).toBe(10);
    // Two requests in interval 4 (no anomaly: 2 < 7 + 2·√4.5), closed at t = 6500 with intervals 5 idle:
    // a good interval, t = 0.5 + 0.5·0.5 = 0.75, then one idle: above initialTrust, it stays 0.75.
    clock.set(5_000);
    requests(state, clock, 2);
    clock.set(6_500);
    expect(roll(state, S, clock.now())).toBe(true);
    expect(state).toMatchObject({ startMs: 6_000, samples: 4, trust: 0.75 });
    // ⌊10 × 0.75 / 0.5⌋ = 15.
    expect(effectiveLimit(state, S, BASE)).toBe(15);
    // Within the same interval, nothing rolls; a clock that goes back changes nothing.
    expect(roll(state, S, 6_999)).toBe(false);
    expect(roll(state, S, 2_000)).toBe(false);
    expect(state.startMs).toBe(6_000);
  });

  it('weighs the first samples as a plain mean and variance (warm-up), whatever the learning rate', () => {
    const slow = { ...S, learningRate: 0.1 };
    const state = freshState(slow, 0);
    // 3, 5, 7: α = 1, 1/2, 1/3. μ: 3, 4, 5. σ²: 0; 0.5·(0 + 0.5·2²) = 1; (2/3)·(1 + (1/3)·3²) = 8/3,
    // the population variance of 3, 5, 7 ((4 + 0 + 4) / 3). z of 5: 2/max(0, 1) = 2; of 7: 3/max(1, 1) = 3.
    foldSample(state, slow, 3, 0);
    expect(state).toMatchObject({ mean: 3, variance: 0, z: 0 });
    foldSample(state, slow, 5, 0);
    expect(state).toMatchObject({ mean: 4, variance: 1, z: 2 });
    foldSample(state, slow, 7, 0);
    expect(state.mean).toBe(5);
    expect(state.variance).toBeCloseTo(8 / 3, 12);
    expect(state.z).toBe(3);
    // From n = 9 on, α = 0.1: a 10th sample of 15 after nine of 5 (μ = 5, σ² = 0): d = 10, z = 10/1,
    // μ = 5 + 0.1·10 = 6, σ² = 0.9·(0 + 0.1·100) = 9.
    const steady = freshState(slow, 0);
    for (let i = 0; i < 9; i++) foldSample(steady, slow, 5, 0);
    foldSample(steady, slow, 15, 0);
    expect(steady.mean).toBeCloseTo(6, 12);
    expect(steady.variance).toBeCloseTo(9, 12);
    expect(steady.z).toBe(10);
  });

  it('counts a long idle gap for the trust in closed form, exactly as one good interval at a time', () => {
    const slow = { ...S, trustGain: 0.02 };
    const bulk = freshState(slow, 0);
    const stepwise = freshState(slow, 0);
    for (const s of [bulk, stepwise]) {
      for (const x of [40, 55, 38, 61, 47]) foldSample(s, slow, x, 0);
      s.trust = 0.3;
      s.count = 12;
      s.startMs = 5_000;
    }
    const capped = { ...bulk };
    // 10 intervals later: the open interval's 12 is a sample, then 9 intervals without one.
    roll(bulk, slow, 15_000);
    foldSample(stepwise, slow, 12, 0);
    for (let i = 0; i < 9; i++) stepwise.trust += slow.trustGain * (1 - stepwise.trust);
    expect(bulk.trust).toBeCloseTo(stepwise.trust, 12);
    expect(bulk.trust).toBeLessThan(0.5);
    for (const field of ['mean', 'variance', 'z', 'samples'] as const) expect(bulk[field]).toBe(stepwise[field]);
    expect(bulk.startMs).toBe(15_000);
    // 500 intervals later: idle intervals heal up to initialTrust, no further.
    roll(capped, slow, 505_000);
    expect(capped.trust).toBe(0.5);
    // An open interval without requests (a state read but never counted) is no sample either.
    const unread = freshState(slow, 0);
    roll(unread, slow, 3_000);
    expect(unread).toMatchObject({ samples: 0, mean: 0, startMs: 3_000, trust: 0.5 });
  });

  it('gives a fresh identity that waits no more than a new client: idle intervals never lift the trust above initialTrust', () => {
    // Base 100, max 300, the anomaly test after 3 samples: one request, then 21 idle intervals.
    const wide = { ...S, limit: 100, max: 300, warmupIntervals: 3, trustGain: 0.1 };
    const state = freshState(wide, 0);
    roll(state, wide, 0);
    countRequest(state, wide);
    roll(state, wide, 22_000);
    // t = 0.5 + 0.1·0.5 = 0.55 for the interval with its request, then 21 idle ones: capped, it stays.
    expect(state).toMatchObject({ samples: 1, trust: 0.55 });
    // ⌊100 × 0.55 / 0.5⌋ = 110, not the 151 of t = 0.756 that waiting would have earned.
    expect(effectiveLimit(state, wide, 100)).toBe(110);
  });

  it('clamps the effective limit to [min, max], max defaulting to the base limit', () => {
    const state = freshState(S, 0);
    state.trust = 0;
    expect(effectiveLimit(state, S, BASE)).toBe(2);
    state.trust = 1;
    // ⌊10 × 1 / 0.5⌋ = 20 = max.
    expect(effectiveLimit(state, S, BASE)).toBe(20);
    expect(effectiveLimit(state, { ...S, max: 12 }, BASE)).toBe(12);
    const { max: _max, ...noMax } = S;
    expect(effectiveLimit(state, noMax, BASE)).toBe(10);
    // 3 × 0.7 / 0.7 is 2.9999999999999996 in floating point: still the base limit 3, not 2.
    state.trust = 0.7;
    expect(effectiveLimit(state, { ...noMax, initialTrust: 0.7, min: 1 }, 3)).toBe(3);
  });

  it("scales min and max with a base limit that is not the rule's own (a plan's), in proportion", () => {
    const ranged = { ...S, limit: 100, min: 10, max: 200 };
    const state = freshState(ranged, 0);
    state.trust = 1;
    // The rule's own limit: [10, 200]; ⌊100 × 1 / 0.5⌋ = 200.
    expect(effectiveLimit(state, ranged, 100)).toBe(200);
    // A plan of 1 000: [100, 2 000], not capped at 200, below its own plan.
    expect(effectiveLimit(state, ranged, 1_000)).toBe(2_000);
    state.trust = 0;
    expect(effectiveLimit(state, ranged, 100)).toBe(10);
    expect(effectiveLimit(state, ranged, 1_000)).toBe(100);
    // A plan of 5: min ⌊10 × 5 / 100⌋ = 0, at least 1; not lifted to 10, twice its plan.
    expect(effectiveLimit(state, ranged, 5)).toBe(1);
    expect(scaledBound(10, ranged, 50)).toBe(5);
    state.trust = 0.5;
    expect(effectiveLimit(state, ranged, 5)).toBe(5);
  });

  it('tells a usable stored state from anything else', () => {
    expect(isAdaptiveState(freshState(S, 0))).toBe(true);
    for (const bad of [null, 1, {}, { ...freshState(S, 0), trust: 2 }, { ...freshState(S, 0), mean: NaN }, { ...freshState(S, 0), flags: 4 }]) {
      expect(isAdaptiveState(bad)).toBe(false);
    }
  });
});
