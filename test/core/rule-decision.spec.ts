import { decideRule, peekRule, type StoreRule } from '../../lib/core/rule-decision.js';

const T0 = 10_000_000;
const rule: StoreRule = { name: 'r', algorithm: 'fixed-window', limit: 2, windowMs: 1_000, blockDurationMs: 0 };

describe('decideRule', () => {
  it('returns the same state object when a denial changes nothing', () => {
    const first = decideRule(undefined, rule, T0, 2);
    const denied = decideRule(first.state, rule, T0 + 1, 1);
    expect(denied.result.allowed).toBe(false);
    expect(denied.state).toBe(first.state);
    expect(denied.result.blockedUntilMs).toBeUndefined();
  });

  it('starts a block on a denial and answers from it until it ends', () => {
    const blocking = { ...rule, blockDurationMs: 30_000 };
    const full = decideRule(undefined, blocking, T0, 2);
    const denied = decideRule(full.state, blocking, T0 + 100, 1);
    expect(denied.result).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 30_000, blockedUntilMs: T0 + 30_100 });
    expect(denied.expiresAtMs).toBe(T0 + 30_100);
    const during = decideRule(denied.state, blocking, T0 + 20_000, 1);
    expect(during.result).toMatchObject({ allowed: false, retryAfterMs: 10_100 });
    expect(during.state).toBe(denied.state);
    expect(peekRule(denied.state, blocking, T0 + 20_000)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 30_100 });
    const after = decideRule(denied.state, blocking, T0 + 30_100, 1);
    expect(after.result.allowed).toBe(true);
    expect(after.state.blockedUntilMs).toBeUndefined();
  });

  it('blocks for at least as long as the algorithm would deny', () => {
    const shortBlock = { ...rule, windowMs: 60_000, blockDurationMs: 1_000 };
    const full = decideRule(undefined, shortBlock, T0 - (T0 % 60_000), 2);
    const denied = decideRule(full.state, shortBlock, T0 - (T0 % 60_000) + 10, 1);
    expect(denied.result.retryAfterMs).toBe(59_990);
  });
});
