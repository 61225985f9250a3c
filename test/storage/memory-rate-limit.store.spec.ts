import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import type { StoreRule } from '../../lib/core/rule-decision.js';

const rule: StoreRule = { name: 'r', algorithm: 'fixed-window', limit: 2, windowMs: 1_000, blockDurationMs: 0 };
const T0 = 1_000_000;

describe('MemoryRateLimitStore', () => {
  it('evicts the least recently used key past maxKeys', async () => {
    const store = new MemoryRateLimitStore({ maxKeys: 3 });
    for (const key of ['a', 'b', 'c']) await store.consume(key, rule, T0, 1);
    await store.consume('a', rule, T0, 1); // a is now the most recently used
    await store.consume('d', rule, T0, 1);
    expect(store.size).toBe(3);
    expect(await store.get('b', rule, T0)).toBeNull();
    expect((await store.get('a', rule, T0))?.remaining).toBe(0);
    expect(await store.get('c', rule, T0)).not.toBeNull();
  });

  it('keeps exactly the most recently used keys through many evictions (compared with a reference LRU)', async () => {
    const maxKeys = 50;
    const store = new MemoryRateLimitStore({ maxKeys });
    const reference: string[] = []; // least recently used first
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
    const wide: StoreRule = { ...rule, limit: 1_000_000, windowMs: 3_600_000 };
    for (let i = 0; i < 5_000; i++) {
      const key = `k${Math.floor(random() * 200)}`;
      await store.consume(key, wide, T0, 1);
      const at = reference.indexOf(key);
      if (at >= 0) reference.splice(at, 1);
      reference.push(key);
      if (reference.length > maxKeys) reference.shift();
    }
    expect(store.size).toBe(maxKeys);
    for (let k = 0; k < 200; k++) {
      const key = `k${k}`;
      expect([key, (await store.get(key, wide, T0)) !== null]).toEqual([key, reference.includes(key)]);
    }
  });

  it('treats expired state as absent and sweeps it without a timer', async () => {
    const store = new MemoryRateLimitStore();
    await store.consume('old', rule, T0, 2);
    expect((await store.consume('old', rule, T0, 1)).allowed).toBe(false);
    const later = T0 + 1_000;
    expect(await store.get('old', rule, later)).toBeNull();
    await store.consume('new', rule, later, 1); // sweeps the expired least recently used entry
    expect(store.size).toBe(1);
  });

  it('keeps a rule block and reports blockedUntilMs', async () => {
    const store = new MemoryRateLimitStore();
    const blocking: StoreRule = { ...rule, blockDurationMs: 5_000 };
    await store.consume('k', blocking, T0, 2);
    const denied = await store.consume('k', blocking, T0 + 10, 1);
    expect(denied).toMatchObject({ allowed: false, blockedUntilMs: T0 + 5_010, retryAfterMs: 5_000 });
    // The window has passed but the block holds.
    expect((await store.consume('k', blocking, T0 + 2_000, 1)).allowed).toBe(false);
    expect((await store.consume('k', blocking, T0 + 5_010, 1)).allowed).toBe(true);
  });

  it('resets a key', async () => {
    const store = new MemoryRateLimitStore();
    await store.consume('k', rule, T0, 2);
    await store.reset('k');
    expect(await store.get('k', rule, T0)).toBeNull();
    expect((await store.consume('k', rule, T0, 1)).allowed).toBe(true);
  });

  it('rejects a maxKeys that is not a positive integer', () => {
    expect(() => new MemoryRateLimitStore({ maxKeys: 0 })).toThrow(/maxKeys must be a positive integer/);
  });

  it('admits exactly the limit under concurrent calls', async () => {
    const store = new MemoryRateLimitStore();
    const results = await Promise.all(Array.from({ length: 200 }, () => store.consume('hot', { ...rule, limit: 50 }, T0, 1)));
    expect(results.filter((r) => r.allowed)).toHaveLength(50);
  });
});
