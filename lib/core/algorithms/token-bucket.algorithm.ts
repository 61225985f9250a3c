/**
 * Token bucket: a bucket of `burst ?? limit` tokens, refilled continuously at `limit / windowMs`
 * tokens per ms; a request of cost n takes n tokens, or is denied when fewer are left. It starts full.
 *
 * - Memory: two numbers per key (`tokens`, `updatedAtMs`).
 * - Accuracy: exact. It enforces the average rate `limit` per `windowMs` while allowing bursts of
 *   up to the capacity after a quiet spell (up to capacity + `limit` within one `windowMs`).
 * - Pick it when clients are bursty by nature (page loads, batch jobs) and a sustained rate with a
 *   separately tunable burst is wanted. GCRA gives the same admissions with one number of state.
 *
 * Conventions:
 * - Refill is continuous: with limit 10 per 1000 ms one token comes back every 100 ms, and a
 *   fractional token is kept until it completes. `remaining` is the whole tokens left (floor).
 * - Arithmetic is exact rather than epsilon-compared: one ms refills `limit / windowMs` tokens, so
 *   with integer inputs every reachable token count is a multiple of 1 / windowMs. Tokens are
 *   computed in those units (integers), and the stored `tokens` is snapped back onto that grid when
 *   read, so float error is removed on every call instead of accumulating.
 * - `resetAtMs` and `expiresAtMs` are when the bucket is full again.
 * - A cost larger than the capacity can never pass: it is denied with `retryAfterMs = resetAtMs - now`
 *   (the time until the bucket is full; 0 when it already is).
 * - If the state was updated at a later time than `nowMs` (a writer whose clock runs ahead), the
 *   decision is taken at that later time, so a lagging clock never refills the bucket twice.
 * - A refund puts back what the bucket has not refilled of the reservation yet: cost tokens less
 *   the refill since `reservedAtMs` (elapsed × limit / windowMs), the bucket never above capacity.
 *   As for GCRA (the same bucket as a TAT, see there): never more than the reservation still holds,
 *   up to the refill since the reservation less when requests kept the bucket from filling up.
 */
import { bucketCapacity, type Algorithm, type AlgorithmRule, type Decision, type Outcome } from './algorithm.interface.js';
import { gridOf } from './gcra.algorithm.js';

export interface TokenBucketState {
  /** Tokens in the bucket at `updatedAtMs` (may be fractional). */
  readonly tokens: number;
  /** Epoch ms of the last admitted request. */
  readonly updatedAtMs: number;
}

/** The bucket read in units of 1 / windowMs token: `units` at `atMs`, `full` when full. */
interface Units {
  readonly units: number;
  readonly atMs: number;
  readonly full: number;
}

function read(state: TokenBucketState | undefined, rule: AlgorithmRule, nowMs: number): Units {
  const full = bucketCapacity(rule) * rule.windowMs;
  if (state === undefined) return { units: full, atMs: nowMs, full };
  const units = Math.min(full, Math.max(0, Math.round(state.tokens * rule.windowMs)));
  return { units, atMs: state.updatedAtMs, full };
}

/** Units at `t` ≥ atMs: each ms refills `limit` units. */
function unitsAt(bucket: Units, rule: AlgorithmRule, t: number): number {
  return Math.min(bucket.full, bucket.units + (t - bucket.atMs) * rule.limit);
}

/** The first ms at which the bucket holds at least `needed` units (≤ full). */
function reachesMs(bucket: Units, rule: AlgorithmRule, needed: number): number {
  return bucket.atMs + Math.max(0, Math.ceil((needed - bucket.units) / rule.limit));
}

function consume(state: TokenBucketState | undefined, rule: AlgorithmRule, nowMs: number, cost: number): Outcome<TokenBucketState> {
  const { windowMs: w } = rule;
  const capacity = bucketCapacity(rule);
  const bucket = read(state, rule, nowMs);
  const at = Math.max(nowMs, bucket.atMs);
  const available = unitsAt(bucket, rule, at);
  const needed = cost * w;

  if (available >= needed) {
    const left: Units = { units: available - needed, atMs: at, full: bucket.full };
    const decision: Decision = {
      allowed: true,
      limit: capacity,
      remaining: Math.floor(left.units / w),
      resetAtMs: reachesMs(left, rule, left.full),
      retryAfterMs: 0,
    };
    return { state: { tokens: left.units / w, updatedAtMs: at }, decision };
  }
  const resetAtMs = Math.max(at, reachesMs(bucket, rule, bucket.full));
  const retryAtMs = cost > capacity ? resetAtMs : reachesMs(bucket, rule, needed);
  const decision: Decision = {
    allowed: false,
    limit: capacity,
    remaining: Math.floor(available / w),
    resetAtMs,
    retryAfterMs: retryAtMs - nowMs,
  };
  return { state, decision };
}

/**
 * The bucket at `nowMs` given a GCRA TAT kept in grid units (see `gridRequest` in GCRA): both admit
 * alike, the bucket holding `capacity − (TAT − now) / T` tokens. For stores that keep token buckets
 * as a TAT, which the database can compare and advance in one operation.
 */
export function tokenBucketStateOnGrid(tat: number, rule: AlgorithmRule, nowMs: number): TokenBucketState {
  const grid = gridOf(rule);
  const ahead = Math.max(0, tat - nowMs * grid.perMs);
  return { tokens: (bucketCapacity(rule) * grid.interval - ahead) / grid.interval, updatedAtMs: nowMs };
}

function refund(state: TokenBucketState | undefined, rule: AlgorithmRule, nowMs: number, cost: number, reservedAtMs: number): TokenBucketState | undefined {
  if (state === undefined) return state;
  const bucket = read(state, rule, nowMs);
  const at = Math.max(nowMs, bucket.atMs);
  const available = unitsAt(bucket, rule, at);
  const back = Math.min(bucket.full - available, cost * rule.windowMs - Math.max(0, at - reservedAtMs) * rule.limit);
  return back > 0 ? { tokens: (available + back) / rule.windowMs, updatedAtMs: at } : state;
}

export const tokenBucket: Algorithm<TokenBucketState> = {
  name: 'token-bucket',
  consume,
  peek: (state, rule, nowMs) => consume(state, rule, nowMs, 1).decision,
  refund,
  expiresAtMs: (state, rule) => {
    if (state === undefined) return 0;
    const bucket = read(state, rule, state.updatedAtMs);
    return reachesMs(bucket, rule, bucket.full);
  },
};
