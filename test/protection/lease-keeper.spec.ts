import { LeaseKeeper } from '../../lib/protection/lease-keeper.js';
import type { LeaseStore } from '../../lib/storage/lease-store.interface.js';
import { MemoryLeaseStore } from '../../lib/storage/memory-lease.store.js';
import { FakeClock } from '../support/fake-clock.js';

const quiet = { log() {}, warn() {}, error() {} };

describe('LeaseKeeper', () => {
  afterEach(() => jest.useRealTimers());

  it('grants slots up to the limit across keepers sharing a store, and frees one on release (once)', async () => {
    const store = new MemoryLeaseStore();
    const clock = new FakeClock();
    const a = new LeaseKeeper(store, { clock, leaseMs: 30_000, timeoutMs: 100, logger: quiet });
    const b = new LeaseKeeper(store, { clock, leaseMs: 30_000, timeoutMs: 100, logger: quiet });
    const first = await a.acquire('pool', 2);
    expect(first).toMatchObject({ status: 'granted', held: 1 });
    expect(await b.acquire('pool', 2)).toMatchObject({ status: 'granted', held: 2 });
    expect(await b.acquire('pool', 2)).toEqual({ status: 'refused', held: 2, limit: 2 });
    if (first.status !== 'granted') throw new Error('expected a grant');
    first.release();
    first.release();
    expect(a.size).toBe(0);
    expect(await b.acquire('pool', 2)).toMatchObject({ status: 'granted', held: 2 });
    await Promise.all([a.stop(), b.stop()]);
    expect(await store.count('pool', clock.now())).toBe(0);
  });

  it('renews its leases every third of leaseMs, so they outlive leaseMs while the instance lives', async () => {
    jest.useFakeTimers();
    const store = new MemoryLeaseStore();
    const clock = new FakeClock();
    const keeper = new LeaseKeeper(store, { clock, leaseMs: 3_000, timeoutMs: 100, logger: quiet });
    await keeper.acquire('pool', 1);
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      jest.advanceTimersByTime(1_000);
      await Promise.resolve();
    }
    expect(await store.count('pool', clock.now())).toBe(1);
    // Stopped without giving back (a dead instance): the lease lapses leaseMs after its last renewal.
    clearInterval((keeper as unknown as { timer: ReturnType<typeof setInterval> }).timer);
    expect(await store.count('pool', clock.now() + 2_999)).toBe(1);
    expect(await store.count('pool', clock.now() + 3_000)).toBe(0);
  });

  it('answers by the policy when the store fails or hangs: deny (the default) or an uncounted grant', async () => {
    const failing: LeaseStore = {
      acquire: () => Promise.reject(new Error('connection refused')),
      release: () => Promise.resolve(),
      renew: () => Promise.resolve(),
      releaseHolder: () => Promise.resolve(),
      count: () => Promise.resolve(0),
    };
    const hanging: LeaseStore = { ...failing, acquire: () => new Promise(() => undefined) };
    const warnings: string[] = [];
    const logger = { ...quiet, warn: (m: string) => warnings.push(m) };
    for (const store of [failing, hanging]) {
      const keeper = new LeaseKeeper(store, { clock: new FakeClock(), leaseMs: 30_000, timeoutMs: 20, logger });
      expect(await keeper.acquire('pool', 5)).toEqual({ status: 'unavailable' });
      expect(await keeper.acquire('pool', 5, 'allow')).toMatchObject({ status: 'granted', held: 0 });
      expect(keeper.size).toBe(0);
      await keeper.stop();
    }
    expect(warnings[0]).toMatch(/Could not take a lease in the lease store \(connection refused\)/);
  });

  it('gives back a lease whose taking answered after the timeout, so that it never holds a slot nobody uses', async () => {
    const store = new MemoryLeaseStore();
    let finish: () => void = () => undefined;
    const slow: LeaseStore = {
      ...store,
      acquire: (...args: Parameters<LeaseStore['acquire']>) => new Promise((resolve) => (finish = () => resolve(store.acquire(...args)))),
      release: (key, id) => store.release(key, id),
      renew: (...args) => store.renew(...args),
      releaseHolder: (holder) => store.releaseHolder(holder),
      count: (key, nowMs) => store.count(key, nowMs),
    };
    const clock = new FakeClock();
    const keeper = new LeaseKeeper(slow, { clock, leaseMs: 30_000, timeoutMs: 10, logger: quiet });
    expect(await keeper.acquire('pool', 1)).toEqual({ status: 'unavailable' });
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await store.count('pool', clock.now())).toBe(0);
    await keeper.stop();
  });

  it('gives back again, before each renewal, a lease the store failed to take back: it is not renewed forever', async () => {
    jest.useFakeTimers();
    const store = new MemoryLeaseStore();
    let failing = true;
    const flaky: LeaseStore = {
      acquire: (...args) => store.acquire(...args),
      release: (key, id) => (failing ? Promise.reject(new Error('store down')) : store.release(key, id)),
      renew: (...args) => store.renew(...args),
      releaseHolder: (holder) => store.releaseHolder(holder),
      count: (key, nowMs) => store.count(key, nowMs),
    };
    const clock = new FakeClock();
    const keeper = new LeaseKeeper(flaky, { clock, leaseMs: 3_000, timeoutMs: 100, logger: quiet });
    const grant = await keeper.acquire('pool', 1);
    if (grant.status !== 'granted') throw new Error('expected a grant');
    grant.release();
    await Promise.resolve();
    await Promise.resolve();
    failing = false;
    clock.advance(1_000);
    jest.advanceTimersByTime(1_000);
    await Promise.resolve();
    expect(await store.count('pool', clock.now())).toBe(0);
    await keeper.stop();
  });

  it('refuses to count without a lease store, naming what is missing', async () => {
    const keeper = new LeaseKeeper(undefined, { clock: new FakeClock(), leaseMs: 30_000, timeoutMs: 20, logger: quiet });
    expect(keeper.available).toBe(false);
    await expect(keeper.acquire('pool', 1)).rejects.toThrow(/needs a lease store \(storage\.leases\)/);
  });
});
