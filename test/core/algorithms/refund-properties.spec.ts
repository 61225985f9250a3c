/**
 * A refund against the request sequence without the reservation (the counterfactual): random rules
 * and traffic, one admitted request chosen as the reservation and given back later. The window
 * algorithms and the sliding log then decide exactly as if the reservation had never been counted;
 * the buckets never admit more than that, and never less than before the refund.
 */
import fc from 'fast-check';
import type { AlgorithmRule } from '../../../lib/core/algorithms/algorithm.interface.js';
import { ALGORITHM_NAMES, getAlgorithm, type AlgorithmName } from '../../../lib/core/algorithms/index.js';
import { fuzzParams } from '../../fuzz/fuzz-settings.js';

const T0 = 1_700_000_123_457;
const EXACT: readonly AlgorithmName[] = ['fixed-window', 'sliding-window', 'sliding-log'];

const ruleArbitrary = fc.record({
  limit: fc.integer({ min: 1, max: 12 }),
  windowMs: fc.constantFrom(10, 100, 999, 1000, 60_000),
  burst: fc.option(fc.integer({ min: 1, max: 15 }), { nil: undefined }),
});

const trafficArbitrary = fc.array(
  fc.record({
    gap: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.4, noNaN: true }), fc.double({ min: 0, max: 2.2, noNaN: true })),
    cost: fc.integer({ min: 1, max: 3 }),
  }),
  { minLength: 2, maxLength: 40 },
);

describe.each(ALGORITHM_NAMES)('%s refund against the counterfactual', (name) => {
  const algorithm = getAlgorithm(name);

  it('gives back exactly what is left of the reservation, never more', () => {
    fc.assert(
      fc.property(ruleArbitrary, trafficArbitrary, fc.nat(), fc.nat(), (rule: AlgorithmRule, traffic, pickReservation, pickRefund) => {
        const capacity = name === 'token-bucket' || name === 'gcra' ? (rule.burst ?? rule.limit) : rule.limit;
        let at = T0;
        const times = traffic.map(({ gap }) => (at += Math.round(gap * rule.windowMs)));
        // Run the traffic up to the refund, the reservation among the admitted requests.
        const admitted: number[] = [];
        let state: unknown;
        const refundAt = 1 + (pickRefund % (traffic.length - 1));
        for (let i = 0; i < refundAt; i++) {
          const outcome = algorithm.consume(state, rule, times[i], traffic[i].cost);
          state = outcome.state;
          if (outcome.decision.allowed) admitted.push(i);
        }
        if (admitted.length === 0) return;
        const reservation = admitted[pickReservation % admitted.length];
        const nowMs = times[refundAt];
        const refunded = algorithm.refund(state, rule, nowMs, traffic[reservation].cost, times[reservation]);

        // The counterfactual: the same admitted requests but the reservation (each admitted there too).
        let without: unknown;
        for (const i of admitted) {
          if (i === reservation) continue;
          const outcome = algorithm.consume(without, rule, times[i], traffic[i].cost);
          expect(outcome.decision.allowed).toBe(true);
          without = outcome.state;
        }
        for (let cost = 1; cost <= capacity; cost++) {
          const after = algorithm.consume(refunded, rule, nowMs, cost).decision;
          const ideal = algorithm.consume(without, rule, nowMs, cost).decision;
          const before = algorithm.consume(state, rule, nowMs, cost).decision;
          // A bucket's refund is exact when no time has passed since the reservation (nothing refilled).
          if (EXACT.includes(name) || nowMs === times[reservation]) {
            expect([cost, after.allowed, after.remaining]).toEqual([cost, ideal.allowed, ideal.remaining]);
          } else {
            // Never more than without the reservation, never less than before the refund.
            expect([cost, after.allowed && !ideal.allowed, before.allowed && !after.allowed]).toEqual([cost, false, false]);
          }
        }
      }),
      fuzzParams(250),
    );
  });
});
