/**
 * GCRA (generic cell rate algorithm), the leaky bucket as a meter: requests are spaced by the
 * emission interval T = windowMs / limit, and the only state is the theoretical arrival time (TAT),
 * the instant at which the client would be back to idle if it stopped now. A request of cost n
 * moves the TAT n × T later and is admitted iff the new TAT is at most `burst ?? limit` intervals
 * ahead of now, so `burst ?? limit` requests can pass at once from idle, then one per T.
 *
 * - Memory: one number per key (`tatMs`).
 * - Accuracy: exact; it admits exactly what a token bucket with the same rate and capacity admits.
 * - Pick it for the token bucket's behaviour (sustained rate plus burst) with the smallest state and
 *   evenly spaced admissions, e.g. APIs that should meter a steady request rate.
 *
 * Conventions:
 * - Every TAT reached from integer inputs lies on a grid of 1 / q ms, q = limit / gcd(limit,
 *   windowMs) (T = 0.1 ms for 10 000 per second: q = 10). Time is measured internally in those
 *   units, so decisions are exact integer comparisons, and the stored `tatMs` is snapped back onto
 *   the grid when read, so float error never accumulates. This is exact while q ≤ 2048, which covers
 *   every usual rule; beyond that a double cannot hold epoch ms that finely and the TAT may drift by
 *   about 0.0001 ms per admitted request (a relative error of about 1e-4 / T).
 * - `remaining` is how many more cost-1 requests would pass now.
 * - `resetAtMs` and `expiresAtMs` are the first ms at or after the TAT (the client is idle again).
 * - A cost larger than the burst can never pass: it is denied with `retryAfterMs = resetAtMs - now`
 *   (the time until the client is idle; 0 when it already is).
 * - A refund moves the TAT back by what the bucket has not refilled of the reservation yet:
 *   cost × T less the time elapsed since `reservedAtMs`, and never before now (idle: a full bucket).
 *   Why less the time elapsed: the TAT alone cannot tell whether the client went idle after the
 *   reservation (idle time gives a reservation back on its own; later requests then start from now
 *   and no longer wait behind it), and idle time since the reservation is at most the time elapsed.
 *   So a refund never gives back more than the reservation still holds, whatever happened in
 *   between; when the client stayed busy throughout, it gives back up to elapsed / T units less
 *   (a refund soon after its reservation, the usual case, is close to exact).
 */
import { bucketCapacity, type Algorithm, type AlgorithmRule, type Decision, type Outcome } from './algorithm.interface.js';

export interface GcraState {
  /** Theoretical arrival time, epoch ms (may be fractional). */
  readonly tatMs: number;
}

/** The time grid of a rule: `perMs` units make a millisecond, `interval` units make T. */
export interface GcraGrid {
  readonly perMs: number;
  readonly interval: number;
}

type Grid = GcraGrid;

/**
 * The grid on which every TAT of `rule` lies (exported for stores that keep the TAT in grid units,
 * so that a database can add and compare whole numbers).
 */
export function gridOf({ limit, windowMs }: AlgorithmRule): Grid {
  let a = limit;
  let b = windowMs;
  if (Number.isInteger(a) && Number.isInteger(b)) {
    while (b !== 0) [a, b] = [b, a % b];
  } else {
    a = 1;
  }
  return { perMs: limit / a, interval: windowMs / a };
}

/**
 * A request of `cost` at `nowMs` on the grid of its rule, for stores that keep the TAT as a whole
 * number of grid units so that the database compares and adds exactly. A stored TAT at or before
 * `now` is idle (the request sets it to `now + step`); one after `now` and at most `latestTat` still
 * admits it (the request adds `step`); a later one denies it.
 */
export interface GridRequest {
  /** `nowMs` in grid units. */
  readonly now: number;
  /** What the request adds to the TAT. */
  readonly step: number;
  /** The latest stored TAT that still admits the request. */
  readonly latestTat: number;
  /** Epoch ms by which a TAT this request writes is idle again. */
  readonly idleByMs: number;
}

/** The request on the grid; `undefined` when its cost exceeds the burst, so that it never fits. */
export function gridRequest(rule: AlgorithmRule, nowMs: number, cost: number): GridRequest | undefined {
  const grid = gridOf(rule);
  const tolerance = bucketCapacity(rule) * grid.interval;
  const step = cost * grid.interval;
  if (step > tolerance) return undefined;
  const now = nowMs * grid.perMs;
  return { now, step, latestTat: now + tolerance - step, idleByMs: nowMs + Math.ceil(tolerance / grid.perMs) };
}

/** The state a TAT kept in grid units (see `gridRequest`) stands for. */
export function gcraStateOnGrid(tat: number, rule: AlgorithmRule): GcraState {
  return { tatMs: tat / gridOf(rule).perMs };
}

/**
 * The TAT as `baseMs` (whole ms) plus `fraction` grid units. Kept apart because epoch ms × perMs
 * can exceed the range in which doubles are exact integers.
 */
interface Tat {
  readonly baseMs: number;
  readonly fraction: number;
}

function read(state: GcraState | undefined, grid: Grid): Tat | undefined {
  if (state === undefined) return undefined;
  const baseMs = Math.floor(state.tatMs);
  return { baseMs, fraction: Math.round((state.tatMs - baseMs) * grid.perMs) };
}

/** How far the TAT is ahead of `t`, in grid units (0 when idle). */
function aheadAt(tat: Tat | undefined, grid: Grid, t: number): number {
  return tat === undefined ? 0 : Math.max(0, (tat.baseMs - t) * grid.perMs + tat.fraction);
}

/** The first ms at which the TAT is at most `units` ahead. */
function aheadAtMostMs(tat: Tat, grid: Grid, units: number): number {
  return tat.baseMs + Math.ceil((tat.fraction - units) / grid.perMs);
}

/** The first ms at which the stored TAT is reached: the client is idle from then on. */
function idleAtMs(state: GcraState | undefined, grid: Grid): number {
  const tat = read(state, grid);
  return tat === undefined ? 0 : aheadAtMostMs(tat, grid, 0);
}

function consume(state: GcraState | undefined, rule: AlgorithmRule, nowMs: number, cost: number): Outcome<GcraState> {
  const grid = gridOf(rule);
  const { interval } = grid;
  const capacity = bucketCapacity(rule);
  const tolerance = capacity * interval; // how far ahead of now the TAT may be after admitting
  const tat = read(state, grid);
  const ahead = aheadAt(tat, grid, nowMs);
  const next = ahead + cost * interval;

  if (next <= tolerance) {
    const stored: GcraState = { tatMs: nowMs + next / grid.perMs };
    const decision: Decision = {
      allowed: true,
      limit: capacity,
      remaining: Math.floor((tolerance - next) / interval),
      resetAtMs: idleAtMs(stored, grid),
      retryAfterMs: 0,
    };
    return { state: stored, decision };
  }
  const resetAtMs = Math.max(nowMs, idleAtMs(state, grid));
  // A denial with cost ≤ capacity implies a TAT ahead of now, hence a stored state.
  const retryAtMs = cost > capacity || tat === undefined ? resetAtMs : aheadAtMostMs(tat, grid, tolerance - cost * interval);
  const decision: Decision = {
    allowed: false,
    limit: capacity,
    remaining: Math.max(0, Math.floor((tolerance - ahead) / interval)),
    resetAtMs,
    retryAfterMs: retryAtMs - nowMs,
  };
  return { state, decision };
}

/**
 * What the TAT moves back by for a refund of `cost` at `nowMs` taken at `reservedAtMs`, in grid units
 * (≤ 0: nothing): cost × T less the time since. Stores keeping the TAT on the grid use it too.
 */
export function refundStep(rule: AlgorithmRule, nowMs: number, cost: number, reservedAtMs: number): number {
  const grid = gridOf(rule);
  return cost * grid.interval - Math.max(0, nowMs - reservedAtMs) * grid.perMs;
}

function refund(state: GcraState | undefined, rule: AlgorithmRule, nowMs: number, cost: number, reservedAtMs: number): GcraState | undefined {
  const grid = gridOf(rule);
  const ahead = aheadAt(read(state, grid), grid, nowMs);
  const back = Math.min(ahead, refundStep(rule, nowMs, cost, reservedAtMs));
  return state === undefined || !(back > 0) ? state : { tatMs: nowMs + (ahead - back) / grid.perMs };
}

export const gcra: Algorithm<GcraState> = {
  name: 'gcra',
  consume,
  peek: (state, rule, nowMs) => consume(state, rule, nowMs, 1).decision,
  refund,
  expiresAtMs: (state, rule) => idleAtMs(state, gridOf(rule)),
};
