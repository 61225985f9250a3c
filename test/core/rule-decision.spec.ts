import { decideRule, peekRule, refundRule, type StoreRule } from '../../lib/core/rule-decision.js';

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

describe('refundRule', () => {
  const start = T0 - (T0 % 1_000);

  it('gives units back to the algorithm state and tells when the state expires', () => {
    const full = decideRule(undefined, rule, start + 10, 2);
    const refunded = refundRule(full.state, rule, start + 20, 1, start + 10);
    expect(refunded).toEqual({ state: { algorithmState: { windowStartMs: start, count: 1 } }, expiresAtMs: start + 1_000 });
    expect(decideRule(refunded!.state, rule, start + 30, 1).result).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('keeps a running block, and drops one that has ended', () => {
    const blocking = { ...rule, blockDurationMs: 30_000 };
    const full = decideRule(undefined, blocking, start, 2);
    const denied = decideRule(full.state, blocking, start + 100, 1);
    const refunded = refundRule(denied.state, blocking, start + 200, 2, start);
    expect(refunded).toEqual({ state: { algorithmState: { windowStartMs: start, count: 0 }, blockedUntilMs: start + 30_100 }, expiresAtMs: start + 30_100 });
    expect(decideRule(refunded!.state, blocking, start + 300, 1).result).toMatchObject({ allowed: false, ongoingBlock: true });
    const ended = { ...full.state, blockedUntilMs: start + 500 };
    expect(refundRule(ended, blocking, start + 600, 1, start)?.state).toEqual({ algorithmState: { windowStartMs: start, count: 1 } });
  });

  it('changes nothing (undefined) without state, with nothing left, or for a cost or time that is not a positive finite number', () => {
    const full = decideRule(undefined, rule, start + 10, 2);
    expect(refundRule(undefined, rule, start + 20, 1, start + 10)).toBeUndefined();
    expect(refundRule(full.state, rule, start + 1_000, 1, start + 10)).toBeUndefined();
    for (const cost of [0, -1, NaN, Infinity]) expect(refundRule(full.state, rule, start + 20, cost, start + 10)).toBeUndefined();
    for (const at of [NaN, Infinity, -Infinity]) {
      expect(refundRule(full.state, rule, start + 20, 1, at)).toBeUndefined();
      expect(refundRule(full.state, rule, at, 1, start + 10)).toBeUndefined();
    }
  });
});
