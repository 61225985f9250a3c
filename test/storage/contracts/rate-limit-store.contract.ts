import { ALGORITHM_NAMES } from '../../../lib/core/algorithms/index.js';
import { decideRule, type ConsumeResult, type RuleState, type StoreRule } from '../../../lib/core/rule-decision.js';
import type { RateLimitStore } from '../../../lib/storage/rate-limit-store.interface.js';

/** What the contract needs from an implementation under test. */
export interface RateLimitStoreHarness {
  /** A fresh store on fresh state. */
  create(): Promise<RateLimitStore>;
  /** A second store sharing the first one's state (another app instance), when the store is shared. */
  createPeer?(): Promise<RateLimitStore>;
  /** Waits for writes a store makes after answering (e.g. given-back increments). */
  settle?(store: RateLimitStore): Promise<void>;
}

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
let unique = 0;
const freshKey = (label: string) => `contract:${label}:${++unique}`;

/** A deterministic request schedule: gaps (ms) and costs drawn from a seeded generator. */
function schedule(seed: number, length: number, windowMs: number): { atMs: number; cost: number }[] {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
  let at = T0 + Math.floor(next() * windowMs);
  return Array.from({ length }, () => {
    const r = next();
    at += r < 0.6 ? Math.floor(next() * (windowMs / 20)) : r < 0.9 ? Math.floor(next() * (windowMs / 3)) : Math.floor(next() * windowMs * 2);
    return { atMs: at, cost: next() < 0.8 ? 1 : 2 };
  });
}

const pick = (r: ConsumeResult) => ({
  allowed: r.allowed,
  limit: r.limit,
  remaining: r.remaining,
  resetAtMs: r.resetAtMs,
  retryAfterMs: r.retryAfterMs,
  blockedUntilMs: r.blockedUntilMs,
});

/** The shared contract every `RateLimitStore` passes, for every algorithm. */
export function rateLimitStoreContract(name: string, harness: RateLimitStoreHarness): void {
  describe(`${name} (RateLimitStore contract)`, () => {
    let store: RateLimitStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    const settle = () => harness.settle?.(store) ?? Promise.resolve();

    describe.each(ALGORITHM_NAMES)('%s', (algorithm) => {
      const rule: StoreRule = { name: 'r', algorithm, limit: 5, windowMs: 10_000, blockDurationMs: 0 };

      it('decides a request sequence exactly as the pure algorithm does', async () => {
        for (const seed of [1, 2, 3]) {
          const key = freshKey(algorithm);
          let reference: RuleState | undefined;
          for (const { atMs, cost } of schedule(seed, 40, rule.windowMs)) {
            const expected = decideRule(reference, rule, atMs, cost);
            reference = expected.state;
            const actual = await store.consume(key, rule, atMs, cost);
            await settle();
            expect({ atMs, cost, ...pick(actual) }).toEqual({ atMs, cost, ...pick(expected.result) });
          }
        }
      });

      it('applies a rule block and lifts it on time', async () => {
        const blocking = { ...rule, blockDurationMs: 60_000 };
        const key = freshKey(`${algorithm}-block`);
        for (let i = 0; i < 5; i++) expect((await store.consume(key, blocking, T0, 1)).allowed).toBe(true);
        const denied = await store.consume(key, blocking, T0 + 1, 1);
        await settle();
        expect(denied).toMatchObject({ allowed: false, blockedUntilMs: T0 + 60_001, retryAfterMs: 60_000 });
        expect((await store.consume(key, blocking, T0 + 30_000, 1)).allowed).toBe(false);
        expect((await store.get(key, blocking, T0 + 30_000))?.blockedUntilMs).toBe(T0 + 60_001);
        expect((await store.consume(key, blocking, T0 + 60_001, 1)).allowed).toBe(true);
      });

      it('reports state with get and forgets it with reset', async () => {
        const key = freshKey(`${algorithm}-get`);
        expect(await store.get(key, rule, T0)).toBeNull();
        await store.consume(key, rule, T0, 2);
        await settle();
        // get answers what a request of cost 1 would get now: 2 used, this one would leave 2.
        expect(await store.get(key, rule, T0)).toMatchObject({ allowed: true, remaining: 2 });
        await store.reset(key);
        expect(await store.get(key, rule, T0)).toBeNull();
        expect((await store.consume(key, rule, T0, 1)).remaining).toBe(4);
      });

      it('denies a cost above the capacity without consuming anything', async () => {
        const capacity = rule.burst ?? rule.limit;
        const key = freshKey(`${algorithm}-oversized`);
        const denied = await store.consume(key, rule, T0, capacity + 1);
        await settle();
        expect(denied).toMatchObject({ allowed: false, limit: capacity, remaining: capacity });
        for (let i = 0; i < capacity; i++) expect((await store.consume(key, rule, T0 + 1, 1)).allowed).toBe(true);
        expect((await store.consume(key, rule, T0 + 1, 1)).allowed).toBe(false);
      });

      it('keeps keys apart', async () => {
        const a = freshKey(`${algorithm}-a`);
        const b = freshKey(`${algorithm}-b`);
        for (let i = 0; i < 5; i++) await store.consume(a, rule, T0, 1);
        expect((await store.consume(a, rule, T0, 1)).allowed).toBe(false);
        expect((await store.consume(b, rule, T0, 1)).allowed).toBe(true);
      });

      it('admits exactly the limit when 200 requests arrive at once', async () => {
        const hot: StoreRule = { ...rule, limit: 50, windowMs: 60_000 };
        const key = freshKey(`${algorithm}-hot`);
        const results = await Promise.all(Array.from({ length: 200 }, () => store.consume(key, hot, T0 + 1, 1)));
        expect(results.filter((r) => r.allowed)).toHaveLength(50);
      });

      if (harness.createPeer) {
        it('admits exactly the limit across two instances sharing the state', async () => {
          const peer = await harness.createPeer!();
          const hot: StoreRule = { ...rule, limit: 50, windowMs: 60_000 };
          const key = freshKey(`${algorithm}-shared`);
          const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? store : peer).consume(key, hot, T0 + 1, 1)));
          expect(results.filter((r) => r.allowed)).toHaveLength(50);
        });

        it('holds a block started by one instance on the other until it ends, without starting it again', async () => {
          const peer = await harness.createPeer!();
          const blocking = { ...rule, blockDurationMs: 60_000 };
          // The peer asks within the window (its last known state is at the limit) and past it, or only past it.
          for (const [n, asks] of [[5_000, 30_000], [30_000]].entries()) {
            const key = freshKey(`${algorithm}-shared-block-${n}`);
            // Both instances have seen the key before the block starts, the peer last.
            for (let i = 0; i < 5; i++) expect((await (i % 2 === 0 ? peer : store).consume(key, blocking, T0, 1)).allowed).toBe(true);
            expect(await store.consume(key, blocking, T0 + 1, 1)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 60_001 });
            await settle();
            for (const at of asks) {
              expect([at, await peer.consume(key, blocking, T0 + at, 1)]).toMatchObject([
                at,
                { allowed: false, blockedUntilMs: T0 + 60_001, retryAfterMs: 60_001 - at },
              ]);
            }
            expect((await peer.consume(key, blocking, T0 + 60_001, 1)).allowed).toBe(true);
          }
        });
      }
    });
  });
}
