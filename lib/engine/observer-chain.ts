import type { Decision } from './decision.js';
import type { DecisionObserver } from './rampart-engine.js';
import type { Verdict } from './verdict.js';

/**
 * One observer telling each of `observers` (those defined) of every decision, in order: the only
 * one when there is one (no cost added), undefined when there is none.
 */
export function observerChain<C>(...observers: (DecisionObserver<C> | undefined)[]): DecisionObserver<C> | undefined {
  const list = observers.filter((o): o is DecisionObserver<C> => o !== undefined);
  if (list.length <= 1) return list[0];
  if (list.length === 2) {
    // Two call sites of their own, each monomorphic: the common case (statistics and one more).
    const [first, second] = list as [DecisionObserver<C>, DecisionObserver<C>];
    return {
      decided(decision: Decision<C>, verdict: Verdict<C>): void {
        first.decided(decision, verdict);
        second.decided(decision, verdict);
      },
    };
  }
  return {
    decided(decision: Decision<C>, verdict: Verdict<C>): void {
      for (let i = 0; i < list.length; i++) list[i]!.decided(decision, verdict);
    },
  };
}
