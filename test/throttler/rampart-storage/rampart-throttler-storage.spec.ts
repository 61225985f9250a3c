import { MemoryRateLimitStore } from '../../../lib/storage/memory-rate-limit.store.js';
import { memoryStorage } from '../../../lib/storage/memory-storage.js';
import { RampartThrottlerStorage, rampartThrottlerStorage, type ThrottlerBacking } from '../../../lib/throttler/index.js';
import { FakeClock } from '../../support/fake-clock.js';

const START = Date.UTC(2030, 0, 1);

describe('RampartThrottlerStorage on the memory store', () => {
  let clock: FakeClock;
  let store: MemoryRateLimitStore;
  let storage: RampartThrottlerStorage;
  beforeEach(() => {
    clock = new FakeClock(START);
    store = new MemoryRateLimitStore();
    storage = rampartThrottlerStorage(store, { clock });
  });

  it('counts each hit for ttl and, without a block, refuses uncounted until the oldest hit expires', async () => {
    expect(await storage.increment('k', 10_000, 2, 0, 'default')).toEqual({ totalHits: 1, timeToExpire: 10, isBlocked: false, timeToBlockExpire: 0 });
    clock.advance(3_000);
    expect(await storage.increment('k', 10_000, 2, 0, 'default')).toEqual({ totalHits: 2, timeToExpire: 10, isBlocked: false, timeToBlockExpire: 0 });
    clock.advance(1_000);
    expect(await storage.increment('k', 10_000, 2, 0, 'default')).toEqual({ totalHits: 3, timeToExpire: 9, isBlocked: true, timeToBlockExpire: 6 });
    clock.advance(5_999);
    expect(await storage.increment('k', 10_000, 2, 0, 'default')).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    clock.advance(1);
    // The first hit has expired; the refused ones were never counted.
    expect(await storage.increment('k', 10_000, 2, 0, 'default')).toEqual({ totalHits: 2, timeToExpire: 10, isBlocked: false, timeToBlockExpire: 0 });
  });

  it('blocks from the request over the limit for blockDuration, counts nothing meanwhile, then counts afresh', async () => {
    await storage.increment('k', 10_000, 1, 30_000, 'default');
    expect(await storage.increment('k', 10_000, 1, 30_000, 'default')).toEqual({ totalHits: 2, timeToExpire: 30, isBlocked: true, timeToBlockExpire: 30 });
    clock.advance(12_000);
    expect(await storage.increment('k', 10_000, 1, 30_000, 'default')).toEqual({ totalHits: 2, timeToExpire: 18, isBlocked: true, timeToBlockExpire: 18 });
    clock.advance(17_999);
    expect(await storage.increment('k', 10_000, 1, 30_000, 'default')).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    clock.advance(1);
    expect(await storage.increment('k', 10_000, 1, 30_000, 'default')).toEqual({ totalHits: 1, timeToExpire: 10, isBlocked: false, timeToBlockExpire: 0 });
    expect(await storage.increment('k', 10_000, 1, 30_000, 'default')).toMatchObject({ isBlocked: true, timeToBlockExpire: 30 });
  });

  it('keeps counting through a block shorter than ttl: the block lasts until a request fits again', async () => {
    await storage.increment('k', 10_000, 2, 0, 'default');
    await storage.increment('k', 10_000, 2, 1_000, 'default');
    clock.advance(2_000);
    // @nestjs/throttler would block for 1 s and then forget both hits; they count until 10 s here.
    expect(await storage.increment('k', 10_000, 2, 1_000, 'default')).toEqual({ totalHits: 3, timeToExpire: 8, isBlocked: true, timeToBlockExpire: 8 });
    clock.advance(7_999);
    expect((await storage.increment('k', 10_000, 2, 1_000, 'default')).isBlocked).toBe(true);
    clock.advance(1);
    expect(await storage.increment('k', 10_000, 2, 1_000, 'default')).toEqual({ totalHits: 1, timeToExpire: 10, isBlocked: false, timeToBlockExpire: 0 });
  });

  it('counts each throttler name apart under one key, and each key apart', async () => {
    for (let i = 0; i < 3; i++) await storage.increment('k', 60_000, 3, 60_000, 'short');
    expect((await storage.increment('k', 60_000, 3, 60_000, 'short')).isBlocked).toBe(true);
    expect(await storage.increment('k', 60_000, 3, 60_000, 'long')).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await storage.increment('other', 60_000, 3, 60_000, 'short')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('never makes one store key of two names and keys', () => {
    const keys = [
      storage.storeKey('a:b', 'c'),
      storage.storeKey('a', 'b:c'),
      storage.storeKey('a%3Ab', 'c'),
      storage.storeKey('a%', '3Ab:c'),
      storage.storeKey('default', 'k'),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(storage.storeKey('default', 'k')).toBe('@throttler:default:k');
    expect(rampartThrottlerStorage(store, { prefix: 'app1/' }).storeKey('short', 'k')).toBe('app1/short:k');
  });

  it('admits exactly the limit of concurrent increments', async () => {
    const records = await Promise.all(Array.from({ length: 200 }, () => storage.increment('hot', 60_000, 50, 60_000, 'default')));
    expect(records.filter((r) => !r.isBlocked)).toHaveLength(50);
    expect(records.filter((r) => !r.isBlocked).map((r) => r.totalHits)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('counts with another algorithm when asked: an epoch-aligned fixed window reports its end', async () => {
    const fixed = rampartThrottlerStorage(store, { clock, algorithm: 'fixed-window' });
    clock.advance(45_000);
    expect(await fixed.increment('k', 60_000, 1, 0, 'default')).toEqual({ totalHits: 1, timeToExpire: 15, isBlocked: false, timeToBlockExpire: 0 });
    expect(await fixed.increment('k', 60_000, 1, 0, 'default')).toEqual({ totalHits: 2, timeToExpire: 15, isBlocked: true, timeToBlockExpire: 15 });
  });

  it('refuses numbers the store cannot count with, naming the throttler', async () => {
    await expect(storage.increment('k', Infinity, 1, 0, 'short')).rejects.toThrow(
      'the "short" throttler needs a ttl above 0, a limit of 0 or more and a finite blockDuration, got ttl Infinity',
    );
    await expect(storage.increment('k', 0, 1, 0, 'short')).rejects.toThrow('got ttl 0, limit 1');
  });

  it('lists every problem of its options in one error', () => {
    const bad = { clock: {}, prefix: '', algorithm: 'leaky' } as unknown as ConstructorParameters<typeof RampartThrottlerStorage>[1];
    expect(() => rampartThrottlerStorage(store, bad)).toThrow(
      'RampartThrottlerStorage: clock must have a now() method returning epoch milliseconds; prefix must be a non-empty string; ' +
        'algorithm must be one of: sliding-window, fixed-window, sliding-log, token-bucket, gcra.',
    );
    expect(() => rampartThrottlerStorage({} as ThrottlerBacking)).toThrow('the first argument must be a rate-limit store (with consume()) or a storage');
  });
});

describe('RampartThrottlerStorage lifecycle', () => {
  it("uses a storage's rate-limit store and runs the storage's init() and close() once each", async () => {
    const calls: string[] = [];
    const storage = { ...memoryStorage(), init: async () => void calls.push('init'), close: async () => void calls.push('close') };
    const adapter = rampartThrottlerStorage(storage, { clock: new FakeClock(START) });
    await Promise.all([adapter.onModuleInit(), adapter.onModuleInit()]);
    expect((await adapter.increment('k', 1_000, 1, 0, 'default')).totalHits).toBe(1);
    expect(
      await storage.rateLimits.get('@throttler:default:k', { name: 'default', algorithm: 'sliding-log', limit: 1, windowMs: 1_000, blockDurationMs: 0 }, START),
    ).toMatchObject({
      allowed: false,
    });
    await adapter.onApplicationShutdown();
    await adapter.onApplicationShutdown();
    expect(calls).toEqual(['init', 'close']);
  });

  it('runs the init() of a store given alone, again after a failure (even one thrown before it returns a promise)', async () => {
    let attempts = 0;
    const store = Object.assign(new MemoryRateLimitStore(), {
      init(): Promise<void> {
        if (++attempts === 1) throw new Error('not yet');
        return Promise.resolve();
      },
    });
    const adapter = new RampartThrottlerStorage(store);
    await expect(adapter.onModuleInit()).rejects.toThrow('not yet');
    await adapter.onModuleInit();
    await adapter.onModuleInit();
    expect(attempts).toBe(2);
    await adapter.onApplicationShutdown();
  });
});
