import type { RuleState } from '../../../core/rule-decision.js';

/**
 * The stored state of one key (see `RateLimitState` for the fields): `c<window index>` counters for
 * the window algorithms, `t` (a TAT in grid units) for token bucket and GCRA, `s` and `v` (a log and
 * its version) for the sliding log; `b` the end of a rule block, `e` when the document expires.
 */
export interface StateDocument {
  _id: string;
  b?: number;
  t?: number;
  s?: number[];
  v?: number;
  e?: Date;
  [counter: `c${number}`]: number | undefined;
}

/** The rule state of a document whose algorithm state is `algorithmState`, with its block if any. */
export function ruleStateOf(doc: StateDocument | null | undefined, algorithmState: unknown): RuleState {
  return { algorithmState, ...(doc?.b ? { blockedUntilMs: doc.b } : {}) };
}
