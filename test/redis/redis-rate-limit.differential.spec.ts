/**
 * The Lua scripts against the pure TypeScript algorithms: random rules and random request sequences
 * (time steps of 0, small, large, fractional and backwards; costs up to far above the capacity; looks
 * with `get`; refunds of admitted requests) run through the Redis store and through `decideRule` / `peekRule` on a state kept in
 * memory, and every answer must be identical, field for field.
 */
import fc from 'fast-check';
import { ALGORITHM_NAMES, type AlgorithmName } from '../../lib/core/algorithms/index.js';
import { decideRule, peekRule, refundRule, type ConsumeResult, type RuleState, type StoreRule } from '../../lib/core/rule-decision.js';
import { RedisRateLimitStore } from '../../lib/storage/redis/redis-rate-limit.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { fuzzParams } from '../fuzz/fuzz-settings.js';
import { describeRedis, redisClients } from '../harness/redis.js';

const T0 = Date.UTC(2030, 0, 1);
const RUNS = Number(process.env.XRUNS ?? 150);

/** The reference: state as a memory store keeps it, dropped once past its expiry. */
interface Entry {
  readonly state: RuleState;
  readonly expiresAtMs: number;
}

function referenceConsume(entry: Entry | undefined, rule: StoreRule, nowMs: number, cost: number): { result: ConsumeResult; entry: Entry | undefined } {
  const live = entry !== undefined && entry.expiresAtMs > nowMs ? entry : undefined;
  const outcome = decideRule(live?.state, rule, nowMs, cost);
  if (live !== undefined && outcome.state === live.state) return { result: outcome.result, entry }; // nothing written
  return { result: outcome.result, entry: outcome.expiresAtMs > nowMs ? { state: outcome.state, expiresAtMs: outcome.expiresAtMs } : undefined };
}

function referenceRefund(entry: Entry | undefined, rule: StoreRule, nowMs: number, reservation: { atMs: number; cost: number }): Entry | undefined {
  const live = entry !== undefined && entry.expiresAtMs > nowMs ? entry : undefined;
  const refunded = refundRule(live?.state, rule, nowMs, reservation.cost, reservation.atMs);
  if (refunded === undefined) return entry;
  return refunded.expiresAtMs > nowMs ? refunded : undefined;
}

function referenceGet(entry: Entry | undefined, rule: StoreRule, nowMs: number): ConsumeResult | null {
  return entry !== undefined && entry.expiresAtMs > nowMs ? peekRule(entry.state, rule, nowMs) : null;
}

const fields = (r: ConsumeResult | null) =>
  r && {
    allowed: r.allowed,
    limit: r.limit,
    remaining: r.remaining,
    resetAtMs: r.resetAtMs,
    retryAfterMs: r.retryAfterMs,
    blockedUntilMs: r.blockedUntilMs,
    ongoingBlock: r.ongoingBlock ?? false,
  };

const ruleArbitrary = (algorithm: AlgorithmName) =>
  fc.record({
    name: fc.constant('r'),
    algorithm: fc.constant(algorithm),
    limit: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 1_000 }), fc.constantFrom(3, 7, 60, 10_000)),
    windowMs: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 120_000 }), fc.constantFrom(1_000, 999, 60_000, 86_400_000)),
    burst: fc.option(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 2_000 })), { nil: undefined }),
    blockDurationMs: fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 200_000 }) },
    ),
  });

/** One step: a time step as a fraction of the window (negative: the clock stepped back), then a request or a look. */
const stepArbitrary = fc.record({
  step: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 6, arbitrary: fc.double({ min: 0, max: 0.3, noNaN: true }) },
    { weight: 2, arbitrary: fc.double({ min: 0, max: 2.5, noNaN: true }) },
    { weight: 1, arbitrary: fc.double({ min: -1, max: 0, noNaN: true }) },
  ),
  /** A fraction of a millisecond added to the clock, in sequences on a clock that ticks below 1 ms. */
  jitter: fc.constantFrom(0, 0, 0.5, 0.1, 0.25),
  cost: fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) },
    { weight: 3, arbitrary: fc.double({ min: 0, max: 1.3, noNaN: true }) }, // a share of the capacity
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) }, // far above any capacity
  ),
  look: fc.boolean(),
  /** Before the request, give back one of the admitted ones (an index into them), or none (-1). */
  giveBack: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.nat(39) }),
});

describeRedis('RedisRateLimitStore against the pure algorithms', () => {
  const redis = redisClients('rate-limit-differential');
  let run = 0;

  describe.each(ALGORITHM_NAMES)('%s', (algorithm) => {
    it(`answers every consume and get as decideRule and peekRule do (${RUNS} random rules and sequences)`, async () => {
      const client = scriptClientOf(redis.connect());
      // Every answer from the script; and the store as used, whose rule blocks known locally answer
      // without the script (with figures of their own: peekRule on the block alone).
      const exact = new RedisRateLimitStore(client, { prefix: redis.prefix, hintCacheSize: 0 });
      const cached = new RedisRateLimitStore(client, { prefix: redis.prefix });
      await fc.assert(
        fc.asyncProperty(
          ruleArbitrary(algorithm),
          fc.integer({ min: 0, max: 86_400_000 }),
          fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
          fc.array(stepArbitrary, { minLength: 1, maxLength: 40, size: 'max' }),
          async (rule, start, fractionalClock, steps) => {
            const exactKey = `diff:${algorithm}:${++run}:exact`;
            const cachedKey = `diff:${algorithm}:${run}:cached`;
            const capacity = algorithm === 'token-bucket' || algorithm === 'gcra' ? (rule.burst ?? rule.limit) : rule.limit;
            let entry: Entry | undefined;
            let knownBlockMs: number | undefined;
            let nowMs = T0 + start;
            const reservations: { atMs: number; cost: number }[] = [];
            for (const [i, { step, jitter, cost: drawn, look, giveBack }] of steps.entries()) {
              nowMs += Math.floor(step * rule.windowMs) + (fractionalClock ? jitter : 0);
              const cost = Number.isInteger(drawn) ? drawn : Math.max(1, Math.ceil(drawn * capacity));
              const at = { i, nowMs, cost };
              if (look) {
                const expected = fields(referenceGet(entry, rule, nowMs));
                expect({ ...at, get: fields(await exact.get(exactKey, rule, nowMs)) }).toEqual({ ...at, get: expected });
                expect({ ...at, get: fields(await cached.get(cachedKey, rule, nowMs)) }).toEqual({ ...at, get: expected });
              }
              if (giveBack >= 0 && reservations.length > 0) {
                const [reservation] = reservations.splice(giveBack % reservations.length, 1);
                entry = referenceRefund(entry, rule, nowMs, reservation);
                await exact.refund(exactKey, rule, nowMs, reservation.cost, reservation.atMs);
                await cached.refund(cachedKey, rule, nowMs, reservation.cost, reservation.atMs);
              }
              const reference = referenceConsume(entry, rule, nowMs, cost);
              entry = reference.entry;
              if (reference.result.allowed) reservations.push({ atMs: nowMs, cost });
              expect({ ...at, consume: fields(await exact.consume(exactKey, rule, nowMs, cost)) }).toEqual({ ...at, consume: fields(reference.result) });

              let expected = reference.result;
              if (knownBlockMs !== undefined && knownBlockMs > nowMs) {
                // The block is still stored, so the script would have met it too.
                expect(reference.result).toMatchObject({ ongoingBlock: true, blockedUntilMs: knownBlockMs });
                expected = peekRule({ blockedUntilMs: knownBlockMs }, rule, nowMs);
              } else {
                // A known block that has ended is forgotten; a block met or started is known.
                knownBlockMs = reference.result.blockedUntilMs;
              }
              expect({ ...at, cached: fields(await cached.consume(cachedKey, rule, nowMs, cost)) }).toEqual({ ...at, cached: fields(expected) });
            }
          },
        ),
        fuzzParams(RUNS),
      );
    }, 60_000);
  });
});
