import { observerChain } from '../../lib/engine/observer-chain.js';
import type { DecisionObserver } from '../../lib/engine/rampart-engine.js';

describe('observerChain', () => {
  const recording = (name: string, calls: string[]): DecisionObserver => ({ decided: (_d, v) => void calls.push(`${name}:${v.outcome}`) });
  const decide = (observer: DecisionObserver | undefined) => observer!.decided({} as never, { outcome: 'admitted', results: [], nowMs: 0 });

  it('is the only observer itself, none when there is none, and tells several in order', () => {
    const calls: string[] = [];
    const a = recording('a', calls);
    expect(observerChain()).toBeUndefined();
    expect(observerChain(undefined, undefined)).toBeUndefined();
    expect(observerChain(a)).toBe(a);
    expect(observerChain(undefined, a)).toBe(a);
    decide(observerChain(a, recording('b', calls)));
    decide(observerChain(a, undefined, recording('b', calls), recording('c', calls)));
    expect(calls).toEqual(['a:admitted', 'b:admitted', 'a:admitted', 'b:admitted', 'c:admitted']);
  });
});
