import {
  blockDurationFor,
  decideEscalation,
  DEFAULT_ESCALATION_POLICY,
  mergeEscalationPolicy,
  type EscalationDecision,
  type EscalationPolicy,
} from '../../lib/core/escalation.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('escalation policy', () => {
  it('has the defaults users asked for: 3 violations, 15 min doubling to 24 h, 10 in 24 h bans', () => {
    expect(DEFAULT_ESCALATION_POLICY).toEqual({
      blockAfterViolations: 3,
      blockDurationMs: 15 * MIN,
      blockMultiplier: 2,
      maxBlockDurationMs: 24 * HOUR,
      permanentBanAfter: 10,
      permanentBanWindowMs: 24 * HOUR,
    });
    expect(Object.isFrozen(DEFAULT_ESCALATION_POLICY)).toBe(true);
  });

  it('does nothing below the block threshold', () => {
    for (const since of [0, 1, 2]) {
      expect(decideEscalation({ violationsSinceLastBlock: since, violationsInBanWindow: since, previousBlocks: 0 }, DEFAULT_ESCALATION_POLICY)).toEqual({
        action: 'none',
      });
    }
  });

  it('follows the timeline of one client: 15, 30, 60 min blocks, then a permanent ban at 10 violations', () => {
    // Replays a client that violates one request after another; `since` restarts after each block.
    const timeline: EscalationDecision[] = [];
    let since = 0;
    let inWindow = 0;
    let blocks = 0;
    for (let i = 0; i < 10; i++) {
      since++;
      inWindow++;
      const decision = decideEscalation(
        { violationsSinceLastBlock: since, violationsInBanWindow: inWindow, previousBlocks: blocks },
        DEFAULT_ESCALATION_POLICY,
      );
      timeline.push(decision);
      if (decision.action === 'block') {
        since = 0;
        blocks++;
      }
    }
    expect(timeline.map((d) => (d.action === 'block' ? d.durationMs / MIN : d.action))).toEqual([
      'none',
      'none',
      15,
      'none',
      'none',
      30,
      'none',
      'none',
      60,
      'ban',
    ]);
  });

  it('prefers a permanent ban over a block when both thresholds are met', () => {
    expect(decideEscalation({ violationsSinceLastBlock: 3, violationsInBanWindow: 10, previousBlocks: 0 }, DEFAULT_ESCALATION_POLICY)).toEqual({
      action: 'ban',
    });
  });

  it('never bans permanently when permanentBanAfter is 0', () => {
    const policy = mergeEscalationPolicy(DEFAULT_ESCALATION_POLICY, { permanentBanAfter: 0 });
    expect(decideEscalation({ violationsSinceLastBlock: 3, violationsInBanWindow: 1_000, previousBlocks: 7 }, policy)).toEqual({
      action: 'block',
      durationMs: 24 * HOUR,
    });
  });

  it('grows blocks geometrically and caps them', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => blockDurationFor(n, DEFAULT_ESCALATION_POLICY) / MIN)).toEqual([15, 30, 60, 120, 240, 480, 960, 1440]);
    expect(blockDurationFor(10_000, DEFAULT_ESCALATION_POLICY)).toBe(24 * HOUR); // no overflow to Infinity or NaN
    const flat = mergeEscalationPolicy(DEFAULT_ESCALATION_POLICY, { blockMultiplier: 1 });
    expect(blockDurationFor(5, flat)).toBe(15 * MIN);
    const fractional: EscalationPolicy = { ...DEFAULT_ESCALATION_POLICY, blockDurationMs: 1_000, blockMultiplier: 1.5 };
    expect([0, 1, 2].map((n) => blockDurationFor(n, fractional))).toEqual([1_000, 1_500, 2_250]);
  });

  it('merges a partial policy over a base, ignoring undefined fields', () => {
    const merged = mergeEscalationPolicy(DEFAULT_ESCALATION_POLICY, { blockAfterViolations: 5, blockDurationMs: undefined });
    expect(merged).toEqual({ ...DEFAULT_ESCALATION_POLICY, blockAfterViolations: 5 });
    expect(Object.isFrozen(merged)).toBe(true);
  });
});
