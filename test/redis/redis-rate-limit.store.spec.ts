/**
 * What the Redis rate-limit store does beyond the shared contract: how it lays out a key, Redis's
 * expiry relative to the app's clock, a rule that changes algorithm, the bound on rule blocks it
 * remembers, its options.
 */
import type { StoreRule } from '../../lib/core/rule-decision.js';
import { counterKey } from '../../lib/storage/redis/redis-keys.js';
import { RedisRateLimitStore, type RedisRateLimitStoreOptions } from '../../lib/storage/redis/redis-rate-limit.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { EXPIRY_MARGIN_MS } from '../../lib/storage/redis/scripts/rate-limit.lua.js';
import { describeRedis, redisClients } from '../harness/redis.js';

const T0 = Date.UTC(2030, 0, 1);
const fixed: StoreRule = { name: 'r', algorithm: 'fixed-window', limit: 2, windowMs: 10_000, blockDurationMs: 0 };

describeRedis('RedisRateLimitStore', () => {
  const redis = redisClients('rate-limit-store');
  const client = redis.connect();
  const storeWith = (options: RedisRateLimitStoreOptions = {}) => new RedisRateLimitStore(scriptClientOf(client), { prefix: redis.prefix, ...options });
  const keyOf = (key: string) => counterKey(redis.prefix, key);

  describe('a key in Redis', () => {
    it('is one hash: the algorithm, the expiry in the app clock, the counters', async () => {
      await storeWith().consume('layout', fixed, T0 + 1_234, 1);
      expect(await client.hgetall(keyOf('layout'))).toEqual({ a: 'fixed-window', e: String(T0 + 10_000), w: String(T0), c: '1' });

      const log: StoreRule = { ...fixed, algorithm: 'sliding-log' };
      await storeWith().consume('log', log, T0, 1);
      await storeWith().consume('log', log, T0 + 0.5, 1);
      expect(await client.hgetall(keyOf('log'))).toEqual({ a: 'sliding-log', e: String(T0 + 10_000.5), l: `${T0} 1 ${T0 + 0.5} 1` });

      const blocking: StoreRule = { ...fixed, algorithm: 'gcra', limit: 1, blockDurationMs: 60_000 };
      await storeWith().consume('block', blocking, T0, 1);
      await storeWith().consume('block', blocking, T0, 1);
      expect(await client.hgetall(keyOf('block'))).toEqual({ a: 'gcra', e: String(T0 + 60_000), b: String(T0 + 60_000), t: String(T0 + 10_000) });
    });

    it("holds the fields of its current state only: another algorithm's and an ended block's are removed", async () => {
      const store = storeWith({ hintCacheSize: 0 });
      await store.consume('fields', fixed, T0, 1);
      await store.consume('fields', { ...fixed, algorithm: 'token-bucket' }, T0 + 1, 1);
      expect(Object.keys(await client.hgetall(keyOf('fields'))).sort()).toEqual(['a', 'e', 't', 'u']);
      await store.consume('fields', { ...fixed, algorithm: 'sliding-log' }, T0 + 2, 1);
      expect(Object.keys(await client.hgetall(keyOf('fields'))).sort()).toEqual(['a', 'e', 'l']);

      const blocking: StoreRule = { ...fixed, limit: 1, blockDurationMs: 20_000 };
      await store.consume('ended', blocking, T0, 1);
      expect(await store.consume('ended', blocking, T0, 1)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 20_000 });
      expect(await client.hget(keyOf('ended'), 'b')).toBe(String(T0 + 20_000));
      expect(await store.consume('ended', blocking, T0 + 20_000, 1)).toMatchObject({ allowed: true });
      expect(await client.hgetall(keyOf('ended'))).toEqual({ a: 'fixed-window', e: String(T0 + 30_000), w: String(T0 + 20_000), c: '1' });
      // A look from a clock behind, within the ended block's time, finds no block.
      expect(await store.get('ended', blocking, T0 + 10_000)).toMatchObject({ allowed: false, remaining: 0 });
      expect(await store.get('ended', blocking, T0 + 10_000)).not.toHaveProperty('ongoingBlock');
    });

    it("expires in Redis relative to the app's clock, however far it is from the server's", async () => {
      for (const [label, nowMs] of [
        ['past', Date.UTC(2001, 0, 1, 0, 0, 7)],
        ['future', Date.UTC(2100, 0, 1, 0, 0, 7)],
      ] as const) {
        await storeWith().consume(label, fixed, nowMs, 1); // the window ends 3 s later
        const ttl = await client.pttl(keyOf(label));
        expect({ label, ttl: ttl > 3_000 + EXPIRY_MARGIN_MS - 1_000 && ttl <= 3_000 + EXPIRY_MARGIN_MS }).toEqual({ label, ttl: true });
      }
    });

    it('holds no live state from its expiry on, whatever Redis still keeps', async () => {
      const store = storeWith();
      await store.consume('expired', fixed, T0, 2);
      expect(await store.get('expired', fixed, T0 + 9_999)).toMatchObject({ allowed: false, remaining: 0 });
      expect(await store.get('expired', fixed, T0 + 10_000)).toBeNull();
      expect(await client.exists(keyOf('expired'))).toBe(1);
      expect(await store.consume('expired', fixed, T0 + 10_000, 1)).toMatchObject({ allowed: true, remaining: 1 });
    });

    it('is deleted by a decision after which it holds nothing', async () => {
      const blocking: StoreRule = { ...fixed, blockDurationMs: 5_000 };
      const store = storeWith({ hintCacheSize: 0 });
      // Denied at once (the cost is above the limit): a block and no counters, kept until the block ends.
      expect(await store.consume('emptied', blocking, T0, 3)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 10_000 });
      expect(await client.hgetall(keyOf('emptied'))).toEqual({ a: 'fixed-window', e: String(T0 + 10_000), b: String(T0 + 10_000) });
      // After it, the same denial leaves nothing to keep.
      expect(await store.consume('emptied', fixed, T0 + 10_000, 3)).toMatchObject({ allowed: false });
      expect(await client.exists(keyOf('emptied'))).toBe(0);
    });

    it('counts as fresh under a rule of another algorithm; a running block still applies', async () => {
      const store = storeWith({ hintCacheSize: 0 });
      await store.consume('switch', fixed, T0, 2);
      expect((await store.consume('switch', fixed, T0, 1)).allowed).toBe(false);
      const bucket: StoreRule = { ...fixed, algorithm: 'token-bucket' };
      expect(await store.consume('switch', bucket, T0, 1)).toMatchObject({ allowed: true, remaining: 1 });

      const blocking: StoreRule = { ...fixed, limit: 1, blockDurationMs: 60_000 };
      await store.consume('switch-block', blocking, T0, 1);
      expect(await store.consume('switch-block', blocking, T0, 1)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 60_000 });
      const gcra: StoreRule = { ...fixed, algorithm: 'gcra' };
      expect(await store.consume('switch-block', gcra, T0 + 1, 1)).toMatchObject({ allowed: false, ongoingBlock: true, blockedUntilMs: T0 + 60_000 });
      expect(await store.get('switch-block', gcra, T0 + 1)).toMatchObject({ allowed: false, ongoingBlock: true, remaining: 0 });
      expect(await store.consume('switch-block', gcra, T0 + 60_000, 1)).toMatchObject({ allowed: true, remaining: 1 });
    });
  });

  describe('memory of the process', () => {
    const blocking: StoreRule = { ...fixed, limit: 1, blockDurationMs: 60_000 };
    const knownBlocks = (store: RedisRateLimitStore) => (store as unknown as { blocks: Map<string, number> }).blocks.size;

    it('remembers at most hintCacheSize rule blocks, however many keys are blocked', async () => {
      const store = storeWith({ hintCacheSize: 5 });
      for (let i = 0; i < 20; i++) {
        expect((await store.consume(`bound:${i}`, blocking, T0, 1)).allowed).toBe(true);
        expect(await store.consume(`bound:${i}`, blocking, T0, 1)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 60_000 });
      }
      expect(knownBlocks(store)).toBe(5);
      // A block no longer remembered here is still enforced from Redis.
      expect(await store.consume('bound:0', blocking, T0 + 30_000, 1)).toMatchObject({ allowed: false, ongoingBlock: true, blockedUntilMs: T0 + 60_000 });
    });

    it('answers a key known to be blocked at once, and forgets the block on reset', async () => {
      const store = storeWith();
      await store.consume('known', blocking, T0, 1);
      await store.consume('known', blocking, T0, 1);
      const answer = store.consume('known', blocking, T0 + 1, 1);
      expect(answer).not.toBeInstanceOf(Promise);
      expect(answer).toMatchObject({ allowed: false, ongoingBlock: true, retryAfterMs: 59_999 });
      await store.reset('known');
      expect(await store.consume('known', blocking, T0 + 2, 1)).toMatchObject({ allowed: true });
    });
  });

  it('refuses options it cannot use', () => {
    expect(() => storeWith({ hintCacheSize: -1 })).toThrow(/hintCacheSize must be an integer of 0 or more, got -1/);
    expect(() => storeWith({ hintCacheSize: 1.5 })).toThrow(/hintCacheSize/);
    expect(() => storeWith({ prefix: '' })).toThrow(/prefix must be a non-empty string/);
  });

  it('rejects a rule of an unknown algorithm', async () => {
    const rule = { ...fixed, algorithm: 'leaky' } as unknown as StoreRule;
    await expect(async () => storeWith().consume('unknown', rule, T0, 1)).rejects.toThrow(/Unknown rate-limit algorithm "leaky"/);
    await expect(storeWith().get('unknown', rule, T0)).rejects.toThrow(/Unknown rate-limit algorithm "leaky"/);
  });
});
