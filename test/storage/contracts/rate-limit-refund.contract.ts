import { ALGORITHM_NAMES, type AlgorithmName } from '../../../lib/core/algorithms/index.js';
import { decideRule, refundRule, type ConsumeResult, type RuleState, type StoreRule } from '../../../lib/core/rule-decision.js';
import type { RateLimitStore } from '../../../lib/storage/rate-limit-store.interface.js';
import type { RateLimitStoreHarness } from './rate-limit-store.contract.js';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
let unique = 0;
const freshKey = (label: string) => `refund:${label}:${++unique}`;

/** The reference: state as the memory store keeps it, dropped once past its expiry. */
interface Entry {
  readonly state: RuleState;
  readonly expiresAtMs: number;
}

/** A deterministic mix of requests and refunds of earlier admitted ones, at increasing times. */
function* steps(seed: number, length: number, windowMs: number): Generator<{ atMs: number; cost: number; refund: number }> {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
  let at = T0 + Math.floor(next() * windowMs);
  for (let i = 0; i < length; i++) {
    const r = next();
    at += r < 0.5 ? 0 : r < 0.8 ? Math.floor(next() * (windowMs / 10)) : Math.floor(next() * windowMs * 1.5);
    yield { atMs: at, cost: next() < 0.8 ? 1 : 2, refund: next() };
  }
}

const pick = (r: ConsumeResult) => ({ allowed: r.allowed, remaining: r.remaining, retryAfterMs: r.retryAfterMs, blockedUntilMs: r.blockedUntilMs });

/** The refund part of the RateLimitStore contract, for every algorithm (`RateLimitStore.refund`). */
export function rateLimitRefundContract(name: string, harness: RateLimitStoreHarness): void {
  describe(`${name} (RateLimitStore refund contract)`, () => {
    let current: RateLimitStore;
    beforeEach(async () => {
      current = await harness.create();
    });
    const settle = () => harness.settle?.(current) ?? Promise.resolve();
    describe.each(ALGORITHM_NAMES)('%s', (algorithm) => refundCases(algorithm, () => current, settle, harness.createPeer));
  });
}

/** `store()` is the store under test, `peer()` (when the store is shared) another instance on its state. */
function refundCases(algorithm: AlgorithmName, store: () => RateLimitStore, settle: () => Promise<void>, peer?: () => Promise<RateLimitStore>): void {
  const rule: StoreRule = { name: 'r', algorithm, limit: 5, windowMs: 10_000, blockDurationMs: 0 };
  const refund = (target: RateLimitStore, key: string, r: StoreRule, nowMs: number, cost: number, reservedAtMs: number) => {
    expect(typeof target.refund).toBe('function');
    return target.refund!(key, r, nowMs, cost, reservedAtMs);
  };

  it('gives back as refundRule does, in a mix of requests and refunds', async () => {
    for (const seed of [11, 12, 13]) {
      const key = freshKey(`${algorithm}-mix`);
      let entry: Entry | undefined;
      const reservations: { atMs: number; cost: number }[] = [];
      for (const { atMs, cost, refund: r } of steps(seed, 40, rule.windowMs)) {
        const live = entry !== undefined && entry.expiresAtMs > atMs ? entry : undefined;
        if (r < 0.35 && reservations.length > 0) {
          const reservation = reservations.splice(Math.floor(r * 1000) % reservations.length, 1)[0];
          const refunded = refundRule(live?.state, rule, atMs, reservation.cost, reservation.atMs);
          if (refunded !== undefined) entry = refunded;
          await refund(store(), key, rule, atMs, reservation.cost, reservation.atMs);
          continue;
        }
        const expected = decideRule(live?.state, rule, atMs, cost);
        if (live === undefined || expected.state !== live.state) entry = { state: expected.state, expiresAtMs: expected.expiresAtMs };
        if (expected.result.allowed) reservations.push({ atMs, cost });
        const actual = await store().consume(key, rule, atMs, cost);
        await settle();
        expect({ seed, atMs, cost, ...pick(actual) }).toEqual({ seed, atMs, cost, ...pick(expected.result) });
      }
    }
  });

  it('lets exactly the refunded units through again, and no more', async () => {
    const key = freshKey(`${algorithm}-exact`);
    for (let i = 0; i < 5; i++) expect((await store().consume(key, rule, T0 + 1, 1)).allowed).toBe(true);
    await refund(store(), key, rule, T0 + 1, 2, T0 + 1);
    expect((await store().consume(key, rule, T0 + 1, 2)).allowed).toBe(true);
    expect((await store().consume(key, rule, T0 + 1, 1)).allowed).toBe(false);
    // Never above the capacity: refunding more than was taken gives back what was taken, no more.
    await settle();
    await refund(store(), key, rule, T0 + 1, 50, T0 + 1);
    for (let i = 0; i < 5; i++) expect((await store().consume(key, rule, T0 + 1, 1)).allowed).toBe(true);
    expect((await store().consume(key, rule, T0 + 1, 1)).allowed).toBe(false);
  });

  it('gives nothing back to a later window, and nothing for a key with no state', async () => {
    const key = freshKey(`${algorithm}-later`);
    expect((await store().consume(key, rule, T0 + 1, 1)).allowed).toBe(true);
    const later = T0 + 1 + 25_000;
    for (let i = 0; i < 5; i++) expect((await store().consume(key, rule, later, 1)).allowed).toBe(true);
    await refund(store(), key, rule, later, 1, T0 + 1);
    expect((await store().consume(key, rule, later, 1)).allowed).toBe(false);
    const unseen = freshKey(`${algorithm}-unseen`);
    await refund(store(), unseen, rule, T0, 3, T0);
    expect(await store().get(unseen, rule, T0)).toBeNull();
  });

  it('after a reset, treats a reservation made before it like one made since: what refundRule gives back on the state counted since', async () => {
    const key = freshKey(`${algorithm}-reset`);
    expect((await store().consume(key, rule, T0 + 100, 2)).allowed).toBe(true);
    await store().reset(key);
    const since = decideRule(undefined, rule, T0 + 200, 3);
    expect((await store().consume(key, rule, T0 + 200, 3)).allowed).toBe(true);
    await settle();
    await refund(store(), key, rule, T0 + 300, 2, T0 + 100);
    const refunded = refundRule(since.state, rule, T0 + 300, 2, T0 + 100)?.state ?? since.state;
    expect(pick(await store().consume(key, rule, T0 + 300, 1))).toEqual(pick(decideRule(refunded, rule, T0 + 300, 1).result));
    // The window counters give back units counted after the reset; the sliding log has no entry at that time.
    if (algorithm === 'fixed-window' || algorithm === 'sliding-window') expect(refunded).not.toBe(since.state);
    if (algorithm === 'sliding-log') expect(refunded).toBe(since.state);
  });

  it('never lifts a running block', async () => {
    const blocking = { ...rule, blockDurationMs: 60_000 };
    const key = freshKey(`${algorithm}-block`);
    for (let i = 0; i < 5; i++) expect((await store().consume(key, blocking, T0, 1)).allowed).toBe(true);
    expect(await store().consume(key, blocking, T0 + 1, 1)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 60_001 });
    await settle();
    await refund(store(), key, blocking, T0 + 1, 5, T0);
    expect(await store().consume(key, blocking, T0 + 2, 1)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 60_001 });
    expect((await store().get(key, blocking, T0 + 2))?.blockedUntilMs).toBe(T0 + 60_001);
    expect((await store().consume(key, blocking, T0 + 60_001, 1)).allowed).toBe(true);
  });

  it('admits exactly the refunded units when refunds and requests race', async () => {
    const hot: StoreRule = { ...rule, limit: 40, windowMs: 60_000 };
    const key = freshKey(`${algorithm}-race`);
    const other = peer ? await peer() : store();
    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? other : store()).consume(key, hot, T0 + 1, 1)));
    expect(first.every((r) => r.allowed)).toBe(true);
    const raced = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0 ? refund(i % 2 ? other : store(), key, hot, T0 + 1, 1, T0 + 1) : (i % 2 ? other : store()).consume(key, hot, T0 + 1, 1),
      ),
    );
    await settle();
    const admitted = raced.filter((r) => r !== undefined && r.allowed).length;
    // 20 refunds: every unit given back is taken again once there are requests enough, and no more.
    expect(admitted).toBeLessThanOrEqual(20);
    const after = await Promise.all(Array.from({ length: 30 }, () => store().consume(key, hot, T0 + 1, 1)));
    expect(admitted + after.filter((r) => r.allowed).length).toBe(20);
  });
}
