/**
 * The store gateway's refunds: units go back to the store that counted them (the store, the
 * fallback store, or none for the outage policy's answers); a remembered denial is forgotten, a
 * block is not; a refund that fails, times out or meets a store that is down never throws, and is
 * logged once per burst.
 */
import type { RampartLogger } from '../../lib/core/logger.js';
import type { ConsumeResult, StoreRule } from '../../lib/core/rule-decision.js';
import { EventPublisher } from '../../lib/events/event-publisher.js';
import { StoreGateway, type Counted } from '../../lib/protection/store-gateway.js';
import { StoreHealth } from '../../lib/protection/store-health.js';
import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import type { RateLimitStore } from '../../lib/storage/rate-limit-store.interface.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const rule: StoreRule = { name: 'r', algorithm: 'fixed-window', limit: 3, windowMs: 60_000, blockDurationMs: 0 };

function recordingLogger(): RampartLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (m) => lines.push(`log ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

/** A store of the memory store's state whose calls fail while `failing` says so, counting refunds. */
class FlakyStore implements RateLimitStore {
  readonly inner = new MemoryRateLimitStore();
  failConsume = false;
  refundMode: 'ok' | 'throw' | 'reject' | 'hang' = 'ok';
  refunds = 0;
  consume(key: string, r: StoreRule, nowMs: number, cost: number): ConsumeResult {
    if (this.failConsume) throw new Error('connection reset');
    return this.inner.consume(key, r, nowMs, cost);
  }
  get(key: string, r: StoreRule, nowMs: number) {
    return this.inner.get(key, r, nowMs);
  }
  reset(key: string) {
    return this.inner.reset(key);
  }
  refund(key: string, r: StoreRule, nowMs: number, cost: number, reservedAtMs: number): void | Promise<void> {
    this.refunds++;
    if (this.refundMode === 'throw') throw new Error('refund refused');
    if (this.refundMode === 'reject') return Promise.reject(new Error('connection reset'));
    if (this.refundMode === 'hang') return new Promise<void>(() => undefined);
    return Promise.resolve(this.inner.refund(key, r, nowMs, cost, reservedAtMs));
  }
}

function gatewayOf(store: RateLimitStore, options: { storeFallback?: boolean; storeTimeoutMs?: number } = {}) {
  const logger = recordingLogger();
  const clock = new FakeClock(T0);
  const health = new StoreHealth(clock, new EventPublisher(undefined, logger), logger, options.storeFallback ?? false);
  const gateway = new StoreGateway(store, health, {
    storeTimeoutMs: options.storeTimeoutMs ?? 1_000,
    storeFallback: options.storeFallback ?? false,
    onStoreError: 'allow',
    denialCacheSize: 100,
    logger,
  });
  const consume = (key: string, r: StoreRule = rule) => gateway.consume(key, r, undefined, T0, 1) as Counted;
  return { gateway, health, logger, consume };
}

const allowed = (answer: Counted | Promise<Counted>) => (answer as ConsumeResult).allowed;

describe('StoreGateway.refund', () => {
  it('gives a unit back to a synchronous store at once, and forgets the remembered denial', () => {
    const { gateway, consume } = gatewayOf(new MemoryRateLimitStore());
    const first = consume('k');
    consume('k');
    consume('k');
    expect(allowed(consume('k'))).toBe(false);
    expect(gateway.knownDenials).toBe(1);
    expect(gateway.refund('k', rule, T0, 1, T0, first)).toBeUndefined();
    expect(gateway.knownDenials).toBe(0);
    expect(allowed(consume('k'))).toBe(true);
    expect(allowed(consume('k'))).toBe(false);
  });

  it('gives nothing back for a denial or the outage policy, and keeps a block and its remembered denial', () => {
    const { gateway, consume } = gatewayOf(new MemoryRateLimitStore());
    for (let i = 0; i < 3; i++) consume('k');
    const denied = consume('k');
    for (const answer of [denied, 'allow', 'deny'] as const) gateway.refund('k', rule, T0, 1, T0, answer);
    expect(allowed(consume('k'))).toBe(false);

    const blocking = { ...rule, blockDurationMs: 600_000 };
    const first = consume('b', blocking);
    for (let i = 0; i < 2; i++) consume('b', blocking);
    expect(consume('b', blocking)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 600_000 });
    gateway.refund('b', blocking, T0, 1, T0, first);
    expect(gateway.knownDenials).toBe(2);
    expect(consume('b', blocking)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 600_000 });
  });

  it('gives back to the fallback store what the fallback store counted, not to the store', async () => {
    const store = new FlakyStore();
    const { gateway, consume } = gatewayOf(store, { storeFallback: true });
    store.failConsume = true;
    const answers = [consume('k'), consume('k'), consume('k')];
    expect(answers.map(allowed)).toEqual([true, true, true]);
    expect(allowed(consume('k'))).toBe(false);
    await gateway.refund('k', rule, T0, 1, T0, answers[0]);
    expect(store.refunds).toBe(0);
    expect(allowed(consume('k'))).toBe(true);
  });

  it('never throws nor rejects when refunds fail, and logs once per burst', async () => {
    const store = new FlakyStore();
    const { gateway, logger, consume } = gatewayOf(store);
    const answer = consume('k');
    store.refundMode = 'throw';
    expect(() => gateway.refund('k', rule, T0, 1, T0, answer)).not.toThrow();
    store.refundMode = 'reject';
    // One client's failures: they do not mark the store down (see StoreBreaker), each is tried.
    for (let i = 0; i < 5; i++) await expect(gateway.refund('k', rule, T0, 1, T0)).resolves.toBeUndefined();
    expect(store.refunds).toBe(6);
    expect(logger.lines.filter((line) => line.includes('giving back'))).toEqual([expect.stringMatching(/^warn .*key "k": refund refused/)]);
    store.refundMode = 'ok';
    await gateway.refund('k', rule, T0, 1, T0, answer);
    expect(logger.lines.filter((line) => line.includes('given back again'))).toEqual([expect.stringContaining('5 more refunds failed')]);
    expect(gateway.refundFailures.total).toBe(6);
    expect(allowed(consume('k'))).toBe(true);
  });

  it('abandons a refund that takes longer than storeTimeoutMs', async () => {
    const store = new FlakyStore();
    const { gateway, logger } = gatewayOf(store, { storeTimeoutMs: 5 });
    store.refundMode = 'hang';
    await expect(gateway.refund('k', rule, T0, 1, T0)).resolves.toBeUndefined();
    expect(logger.lines).toContainEqual(expect.stringMatching(/^warn .*giving back reserved units failed .*timed out/i));
  });

  it('keeps the units counted while the store is down, and says so once', () => {
    const store = new FlakyStore();
    const { gateway, health, logger } = gatewayOf(store);
    health.down(new Error('no route to host'));
    gateway.refund('a', rule, T0, 1, T0);
    gateway.refund('b', rule, T0, 1, T0);
    expect(store.refunds).toBe(0);
    expect(logger.lines.filter((line) => line.includes('reserved units are not given back'))).toHaveLength(1);
  });

  it('does nothing for a store without refund, and tells so', () => {
    const inner = new MemoryRateLimitStore();
    const legacy: RateLimitStore = { consume: (...a) => inner.consume(...a), get: (...a) => inner.get(...a), reset: (k) => inner.reset(k) };
    const { gateway, consume, logger } = gatewayOf(legacy);
    expect(gateway.refunds).toBe(false);
    expect(gatewayOf(inner).gateway.refunds).toBe(true);
    const answer = consume('k');
    expect(gateway.refund('k', rule, T0, 1, T0, answer)).toBeUndefined();
    gateway.refund('k', rule, T0, 1, T0, answer);
    expect(logger.lines).toEqual([expect.stringMatching(/^error The rate-limit store Object has no refund\(key, rule, nowMs, cost, reservedAtMs\) method/)]);
    expect(inner.consume('k', rule, T0, 2).allowed).toBe(true);
    expect(inner.consume('k', rule, T0, 1).allowed).toBe(false);
  });
});
