import { adaptedRule } from '../../lib/adaptive/adapted-rule.js';
import { AdaptiveLimits } from '../../lib/adaptive/adaptive-limits.js';
import { freshState } from '../../lib/adaptive/adaptive-math.js';
import type { AdaptiveSettings, AdaptiveState } from '../../lib/adaptive/adaptive-math.js';
import type { RampartLogger } from '../../lib/core/logger.js';
import type { ConsumeResult, StoreRule } from '../../lib/core/rule-decision.js';
import type { Counted } from '../../lib/protection/store-gateway.js';
import type { AdaptiveStore } from '../../lib/storage/adaptive-store.interface.js';
import { MemoryAdaptiveStore } from '../../lib/storage/memory-adaptive.store.js';
import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import { FakeClock } from '../support/fake-clock.js';
import { HAND_SETTINGS } from './settings.js';

/** The hand settings with a refusal that halves the trust, a floor of 1 and no ceiling but the base limit, a retention of 10 s. */
const { max: _max, ...unbounded } = HAND_SETTINGS;
const SETTINGS: AdaptiveSettings = { ...unbounded, violationPenalty: 0.5, min: 1, retentionMs: 10_000 };
const BASE: StoreRule = Object.freeze({ name: 'api', algorithm: 'fixed-window', limit: 10, windowMs: 1_000, blockDurationMs: 0 });

/** The memory store as a remote one answers (promises), counting its calls. */
class RemoteStore implements AdaptiveStore {
  readonly inner = new MemoryAdaptiveStore();
  gets = 0;
  puts = 0;
  get(key: string, nowMs: number): Promise<AdaptiveState | undefined> {
    this.gets++;
    return Promise.resolve(this.inner.get(key, nowMs));
  }
  put(key: string, state: AdaptiveState, expiresAtMs: number): Promise<void> {
    this.puts++;
    this.inner.put(key, state, expiresAtMs);
    return Promise.resolve();
  }
}

/** A store that is down: reads reject, writes throw. */
class DownStore implements AdaptiveStore {
  get(): Promise<AdaptiveState | undefined> {
    return Promise.reject(new Error('connection refused'));
  }
  put(): void {
    throw new Error('connection refused');
  }
}

/** A store that never answers. */
class SilentStore implements AdaptiveStore {
  get(): Promise<AdaptiveState | undefined> {
    return new Promise(() => undefined);
  }
  put(): Promise<void> {
    return new Promise(() => undefined);
  }
}

/** Lets the writes and reads started off the request path settle. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

function logger(): RampartLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, log: () => undefined, warn: (message: string) => warnings.push(message), error: () => undefined };
}

describe('AdaptiveLimits: the state per client, held in memory and written back once per interval', () => {
  const clock = new FakeClock(0);
  const counters = new MemoryRateLimitStore();
  /** Counts one request of `key`, as the engine does; answers the rule it was counted under and the decision. */
  async function request(limits: AdaptiveLimits, key: string, cost = 1): Promise<{ rule: StoreRule; result: ConsumeResult }> {
    let used: StoreRule | undefined;
    const answer: Counted = await limits.count(
      key,
      SETTINGS,
      BASE,
      clock.now(),
      cost,
      (rule) => ((used = rule), counters.consume(key, rule, clock.now(), cost)),
    );
    return { rule: used!, result: answer as ConsumeResult };
  }

  it('reads a client once, writes it once per interval, and shares one read between concurrent first requests', async () => {
    const store = new RemoteStore();
    const limits = new AdaptiveLimits(store, { timeoutMs: 1_000, logger: logger() });
    clock.set(0);
    await Promise.all([1, 2, 3, 4, 5].map(() => request(limits, 'a')));
    for (let i = 0; i < 20; i++) await request(limits, 'a');
    expect([store.gets, store.puts]).toEqual([1, 0]);
    clock.set(1_000);
    for (let i = 0; i < 25; i++) await request(limits, 'a');
    // One write, when the first request of interval 1 closed interval 0: its 25 requests are the
    // sample; the 11th was refused (limit 10), t = 0.5·(1 − 0.5) = 0.25, and no trust was regained.
    expect([store.gets, store.puts]).toEqual([1, 1]);
    expect(store.inner.get('a', 1_000)).toMatchObject({ startMs: 1_000, count: 0, samples: 1, mean: 25, trust: 0.25 });
    expect(limits.size).toBe(1);
  });

  it('counts a refusal against the trust, and hands the store the effective limit', async () => {
    const limits = new AdaptiveLimits(new MemoryAdaptiveStore(), { timeoutMs: 1_000, logger: logger() });
    clock.set(100_000);
    const first = await request(limits, 'b');
    // Trust 0.5 = initialTrust: the base rule itself.
    expect(first.rule).toBe(BASE);
    for (let i = 0; i < 9; i++) await request(limits, 'b');
    const refused = await request(limits, 'b');
    expect(refused.result.allowed).toBe(false);
    // t = 0.5·(1 − 0.5) = 0.25: limit ⌊10 × 0.25 / 0.5⌋ = 5.
    const next = await request(limits, 'b');
    expect(next.rule).toMatchObject({ name: 'api', limit: 5 });
    expect((await limits.view('b', SETTINGS, BASE, clock.now()))!).toMatchObject({ trust: 0.25, effectiveLimit: 5, refused: true, requestsInInterval: 12 });
  });

  it('never counts a request under a capacity below its cost: a low trust cannot lock a costly request out', async () => {
    const store = new MemoryAdaptiveStore();
    clock.set(150_000);
    // Trust 0.05: ⌊10 × 0.05 / 0.5⌋ = 1, the min; a request costing 4 (a cost function's answer).
    store.put('h', { ...freshState(SETTINGS, clock.now()), trust: 0.05 }, 1e15);
    const limits = new AdaptiveLimits(store, { timeoutMs: 1_000, logger: logger() });
    const costly = await request(limits, 'h', 4);
    expect(costly.result.allowed).toBe(true);
    expect(costly.rule).toMatchObject({ limit: 4 });
    expect((await request(limits, 'h', 4)).result.allowed).toBe(false);
    // A request costing 1 is counted under the effective limit again, 1 (refused: 4 used).
    const cheap = await request(limits, 'h');
    expect(cheap.rule).toMatchObject({ limit: 1 });
    // The next interval starts empty: the costly request passes again.
    clock.set(151_000);
    expect((await request(limits, 'h', 4)).result.allowed).toBe(true);

    const bucket: StoreRule = Object.freeze({ name: 'bucket', algorithm: 'token-bucket', limit: 10, windowMs: 1_000, burst: 20, blockDurationMs: 0 });
    expect(adaptedRule(bucket, 1, 4)).toMatchObject({ limit: 1, burst: 4 });
    expect(adaptedRule(bucket, 5, 4)).toMatchObject({ limit: 5, burst: 10 });
    expect(adaptedRule(BASE, 10, 4)).toBe(BASE);
  });

  it('does not cut the trust for an estimated denial (calls piling up while the store is slow)', async () => {
    const limits = new AdaptiveLimits(new MemoryAdaptiveStore(), { timeoutMs: 1_000, logger: logger() });
    clock.set(170_000);
    const estimated = (rule: StoreRule): Counted => ({
      ...(counters.consume('est', rule, clock.now(), 1) as ConsumeResult),
      allowed: false,
      remaining: 0,
      estimated: true,
    });
    await limits.count('est', SETTINGS, BASE, clock.now(), 1, estimated);
    expect((await limits.view('est', SETTINGS, BASE, clock.now()))!).toMatchObject({ trust: 0.5, refused: false });
    // A refusal the store itself took cuts it.
    const refused = (rule: StoreRule): Counted => ({ ...(counters.consume('est', rule, clock.now(), 1) as ConsumeResult), allowed: false, remaining: 0 });
    await limits.count('est', SETTINGS, BASE, clock.now(), 1, refused);
    expect((await limits.view('est', SETTINGS, BASE, clock.now()))!).toMatchObject({ trust: 0.25, refused: true });
  });

  it('writes back the oldest client it lets go when full, and reads it again when it returns', async () => {
    const store = new RemoteStore();
    const limits = new AdaptiveLimits(store, { timeoutMs: 1_000, logger: logger(), maxClients: 2 });
    clock.set(200_000);
    for (const key of ['c1', 'c1', 'c1', 'c2', 'c3']) await request(limits, key);
    expect(limits.size).toBe(2);
    expect(store.puts).toBe(1);
    expect(store.inner.get('c1', clock.now())).toMatchObject({ count: 3 });
    await request(limits, 'c1');
    expect((await limits.view('c1', SETTINGS, BASE, clock.now()))!.requestsInInterval).toBe(4);
  });

  it('lets the least recently met client go, not the first met', async () => {
    const store = new RemoteStore();
    const limits = new AdaptiveLimits(store, { timeoutMs: 1_000, logger: logger(), maxClients: 2 });
    clock.set(250_000);
    for (const key of ['r1', 'r2', 'r1', 'r1', 'r3']) await request(limits, key);
    expect(store.inner.get('r2', clock.now())).toMatchObject({ count: 1 });
    expect(store.inner.get('r1', clock.now())).toBeUndefined();
    expect((await limits.view('r1', SETTINGS, BASE, clock.now()))!.requestsInInterval).toBe(3);
  });

  it('resumes a client met again while the write that let it go is under way, not from a stale read', async () => {
    /** A store whose writes land only when released. */
    class SlowWrites extends RemoteStore {
      readonly held: (() => void)[] = [];
      override put(key: string, state: AdaptiveState, expiresAtMs: number): Promise<void> {
        this.puts++;
        return new Promise((resolve) => this.held.push(() => (this.inner.put(key, state, expiresAtMs), resolve())));
      }
    }
    const store = new SlowWrites();
    const limits = new AdaptiveLimits(store, { timeoutMs: 1_000, logger: logger(), maxClients: 1 });
    clock.set(260_000);
    for (let i = 0; i < 11; i++) await request(limits, 's1');
    // s2 lets s1 go (its write is under way), and s1 returns at once.
    await request(limits, 's2');
    const back = await request(limits, 's1');
    // The 12th request of s1's interval, under the trust its refusal cut: ⌊10 × 0.25 / 0.5⌋ = 5.
    expect(back.rule).toMatchObject({ limit: 5 });
    expect((await limits.view('s1', SETTINGS, BASE, clock.now()))!).toMatchObject({ requestsInInterval: 12, trust: 0.25, refused: true });
    for (const release of store.held) release();
    await flush();
  });

  it('forgets a client away longer than the retention, as the store does', async () => {
    const limits = new AdaptiveLimits(new MemoryAdaptiveStore(), { timeoutMs: 1_000, logger: logger() });
    clock.set(300_000);
    for (let i = 0; i < 11; i++) await request(limits, 'd');
    expect((await limits.view('d', SETTINGS, BASE, clock.now()))!.trust).toBe(0.25);
    // Retention 10 s after the end of its interval: back to the initial trust, no baseline.
    clock.set(311_000);
    await request(limits, 'd');
    expect((await limits.view('d', SETTINGS, BASE, clock.now()))!).toMatchObject({ trust: 0.5, samples: 0, requestsInInterval: 1 });
  });

  it('counts from a fresh state when the store is down or silent, and says so once', async () => {
    const log = logger();
    const limits = new AdaptiveLimits(new DownStore(), { timeoutMs: 1_000, logger: log });
    clock.set(400_000);
    expect((await request(limits, 'e1')).result.allowed).toBe(true);
    expect((await request(limits, 'e2')).result.allowed).toBe(true);
    clock.set(401_000);
    expect((await request(limits, 'e1')).result.allowed).toBe(true);
    expect(log.warnings).toEqual(['Adaptive limits: the read of "e1"\'s state failed (connection refused); the client is counted from a fresh state.']);

    const silent = new AdaptiveLimits(new SilentStore(), { timeoutMs: 20, logger: log });
    const { rule, result } = await request(silent, 'f');
    expect(result.allowed).toBe(true);
    expect(rule).toBe(BASE);
    expect(log.warnings[1]).toMatch(/^Adaptive limits: the read of "f"'s state failed \(.*\); the client is counted from a fresh state\.$/);
  });

  it('never writes a fresh state over the stored one it could not read: it reads again when an interval closes', async () => {
    /** A store whose reads fail until `up`. */
    class FlakyStore extends RemoteStore {
      up = false;
      override get(key: string, nowMs: number): Promise<AdaptiveState | undefined> {
        return this.up ? super.get(key, nowMs) : Promise.reject(new Error('connection reset'));
      }
    }
    const store = new FlakyStore();
    clock.set(600_000);
    // Written by another instance for the interval at 602 000.
    const penalised = { ...freshState(SETTINGS, 602_000), samples: 5, mean: 3, trust: 0.05 };
    store.inner.put('p', penalised, 1e15);
    const limits = new AdaptiveLimits(store, { timeoutMs: 1_000, logger: logger() });
    // Counted from a fresh state (trust 0.5, limit 10) while the store cannot be read.
    for (let i = 0; i < 3; i++) expect((await request(limits, 'p')).result.allowed).toBe(true);
    // The interval closes while the store is still down: nothing is written.
    clock.set(601_000);
    await request(limits, 'p');
    await flush();
    expect(store.puts).toBe(0);
    expect(store.inner.get('p', clock.now())).toEqual(penalised);
    // The next close reads it again: the stored state comes back, and is not overwritten.
    store.up = true;
    clock.set(602_000);
    await request(limits, 'p');
    await flush();
    expect(store.puts).toBe(0);
    expect(store.inner.get('p', clock.now())).toEqual(penalised);
    expect((await limits.view('p', SETTINGS, BASE, clock.now()))!).toMatchObject({ samples: 5, baseline: 3, trust: 0.05, effectiveLimit: 1 });
    expect((await request(limits, 'p')).rule).toMatchObject({ limit: 1 });
  });

  it('writes the state of a client the store turns out not to have, once a read succeeds', async () => {
    const store = new RemoteStore();
    let down = true;
    const flaky: AdaptiveStore = { get: (k, n) => (down ? Promise.reject(new Error('down')) : store.get(k, n)), put: (k, s, e) => store.put(k, s, e) };
    const limits = new AdaptiveLimits(flaky, { timeoutMs: 1_000, logger: logger() });
    clock.set(700_000);
    await request(limits, 'q');
    down = false;
    clock.set(701_000);
    await request(limits, 'q');
    await flush();
    expect(store.inner.get('q', clock.now())).toMatchObject({ startMs: 701_000, samples: 1, mean: 1 });
  });

  it('discards a malformed stored state', async () => {
    const store = new MemoryAdaptiveStore();
    store.put('g', { startMs: 0, count: 1, flags: 0, samples: 1, mean: 1, variance: 0, z: 0, trust: 7 }, 1e15);
    const log = logger();
    const limits = new AdaptiveLimits(store, { timeoutMs: 1_000, logger: log });
    clock.set(500_000);
    await request(limits, 'g');
    expect((await limits.view('g', SETTINGS, BASE, clock.now()))!.trust).toBe(0.5);
    expect(log.warnings).toEqual(['Adaptive limits: the stored state of "g" is malformed; the client is counted from a fresh state.']);
  });
});
