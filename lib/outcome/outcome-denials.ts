import { ruleCapacity } from '../core/algorithms/algorithm.interface.js';
import { windowStart } from '../core/algorithms/fixed-window.algorithm.js';
import type { Clock } from '../core/clock.js';
import type { ConsumeResult } from '../core/rule-decision.js';
import { isThenable } from '../core/thenable.js';
import type { ResolvedRule } from '../engine/rule-resolution.js';
import type { Counted, StoreGateway } from '../protection/store-gateway.js';
import { InFlightKeys } from './in-flight-keys.js';

/**
 * How long a client refused by units that requests in flight hold is told to wait: they come back
 * as soon as those requests end with an outcome the rule does not count.
 */
export const HELD_RETRY_AFTER_MS = 1_000;

/**
 * Longest pause of a waiting request (`waitMs`) between two looks at the store: requests in flight
 * on this instance wake it as they settle, those of other instances only this often.
 */
export const WAIT_POLL_MS = 100;

/** What judging a denial needs of the store gateway. */
export type DenialStore = Pick<StoreGateway, 'consume' | 'peek' | 'forgetDenial' | 'takenAt'>;

/**
 * The key an outcome-aware rule counts its counted outcomes on, beside `key`, where requests take
 * their units before their outcome is known (reserved and counted alike).
 */
export function countedKey(key: string): string {
  // A prefix no key of a rule can begin with (rule names cannot), and no client can give.
  return `~counted:${key}`;
}

/**
 * Judges what an outcome-aware rule (`countIf`) answered a request. An admission, the outage
 * policy's answer and a running block stand. A denial is told apart by the rule's counted outcomes
 * (see `countedKey`):
 * - they alone fill the limit: a violation, as under any rule, which starts the rule's block
 *   (`blockDurationMs`);
 * - otherwise units that requests in flight hold make the difference, and they may come back. With
 *   the rule's `waitMs`, the request waits for them (woken as requests of this instance settle,
 *   looking again at least every `WAIT_POLL_MS`), at most the rule's capacity of requests per key
 *   at once. A request still refused is refused with a short `Retry-After` (`heldInFlight`): no
 *   violation, no block, so a burst of slow requests the rule does not count never locks the
 *   client out.
 *
 * The counted key is read only when this instance's own requests in flight do not settle the
 * question (units enough that they took in the current window: the counted outcomes cannot fill
 * the limit), and a store that cannot tell (down, slow) counts as the second case. A refusal of the
 * second case is never remembered (see `DenialCache`): the units may come back on any instance.
 */
export class OutcomeDenials {
  /** The units this instance's requests in flight hold, and the requests waiting for them. */
  readonly inFlight = new InFlightKeys();

  constructor(
    private readonly store: DenialStore,
    private readonly clock: Clock,
  ) {}

  /**
   * The answer to a request of `cost` on `key` under `rule`, `answer` being the store's at `nowMs`
   * (see the class). `mayWait`: false for a rule that never refuses (a shadow rule), which waits for
   * nothing. A request that waited looks at the store at the clock's time, and an admission then
   * says when its units were taken (`reservedAtMs`).
   */
  judge<C>(
    key: string,
    rule: ResolvedRule<C>,
    answer: Counted | Promise<Counted>,
    nowMs: number,
    cost: number,
    client: string,
    mayWait: boolean,
  ): Counted | Promise<Counted> {
    const { store, inFlight } = this;
    const { storeRule } = rule;
    const deadline = mayWait && rule.waitMs !== undefined ? performance.now() + rule.waitMs : 0;
    let atMs = nowMs;
    let waiting = false;
    const done = (value: Counted): Counted => {
      if (waiting) inFlight.leave(key);
      waiting = false;
      return atMs === nowMs || typeof value === 'string' || !value.allowed ? value : store.takenAt(value, atMs);
    };
    const held = (denial: ConsumeResult): Counted | Promise<Counted> => {
      // Remembered, this denial would answer the next requests after the units came back.
      store.forgetDenial(key);
      const left = deadline - performance.now();
      if (left <= 0 || (!waiting && !(waiting = inFlight.enter(key, ruleCapacity(storeRule))))) return done(heldInFlight(denial));
      return inFlight.next(key, Math.min(left, WAIT_POLL_MS)).then(() => {
        if (inFlight.isClosed) return done(heldInFlight(denial));
        atMs = Math.max(atMs, this.clock.now());
        return Promise.resolve(store.consume(key, storeRule, rule.onStoreError, atMs, cost, client)).then(judged);
      });
    };
    const judged = (given: Counted): Counted | Promise<Counted> => {
      if (typeof given === 'string' || given.allowed || given.ongoingBlock === true) return done(given);
      // Estimated: this instance's calls in flight to the store hold the capacity (those the store
      // denies are judged by their own answers). Or units this instance's requests took in this
      // window leave room, which counted outcomes cannot fill (see `countsHeld`).
      if (given.estimated === true || (countsHeld(rule) && inFlight.unitsHeld(key, windowStart(atMs, storeRule.windowMs)) >= cost)) return held(given);
      return store.peek(countedKey(key), storeRule, atMs, client).then((counted) => {
        // `remaining` is what is left after a request of cost 1: the counted outcomes leave room for `cost`.
        if (counted === undefined || counted === null || (counted.allowed && counted.remaining + 1 >= cost)) return held(given);
        done(given);
        if (rule.blockRule === undefined) return given;
        // A request of `cost` that does not fit: denied again under the rule's block, which starts now.
        return Promise.resolve(store.consume(key, rule.blockRule, rule.onStoreError, atMs, cost, client)).then((blocked) =>
          typeof blocked === 'string' ? given : blocked,
        );
      });
    };
    return isThenable(answer) ? answer.then(judged) : judged(answer);
  }
}

/**
 * Whether units that this instance's requests in flight took in the current window are still in
 * the rule's count when it denies: with windows and logs, which keep every unit of a window until
 * it ends. Not with buckets, which refill units before the window ends, nor with `consecutive`
 * rules, whose reset wipes units of requests still in flight.
 */
function countsHeld(rule: Pick<ResolvedRule<never>, 'consecutive' | 'algorithm'>): boolean {
  return rule.consecutive !== true && rule.algorithm !== 'token-bucket' && rule.algorithm !== 'gcra';
}

/** A denial by units that requests in flight hold: no violation, and a retry once they may be back. */
function heldInFlight(denial: ConsumeResult): ConsumeResult {
  return { ...denial, retryAfterMs: Math.min(denial.retryAfterMs, HELD_RETRY_AFTER_MS), heldInFlight: true };
}
