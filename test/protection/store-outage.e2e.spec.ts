import { Logger } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import {
  MemoryRateLimitStore,
  RAMPART_EVENTS,
  RateLimitConfigurationError,
  type ConsumeResult,
  type RateLimitModuleOptions,
  type RateLimitStore,
  type StoreDownEvent,
  type StoreRule,
  type StoreUpEvent,
  type Violation,
} from '../../lib/index.js';
import { StoreTimeoutError, withTimeout } from '../../lib/protection/store-health.js';
import { resolveRateLimitConfig } from '../../lib/rate-limit.config.js';
import { Rampart } from '../../lib/engine/rampart.js';
import { PROBE_KEY } from '../../lib/engine/store-keys.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { protectionModule } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);

const CLIENT = '203.0.113.7';

/**
 * The memory store, behind a switch: 'up' delegates, 'fail' rejects, 'hang' never answers.
 * `calls` counts the requests' counter calls, `probes` those of the outage probe.
 */
class SwitchableStore implements RateLimitStore {
  mode: 'up' | 'fail' | 'hang' = 'up';
  calls = 0;
  probes = 0;
  readonly inner = new MemoryRateLimitStore();

  consume(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult> {
    if (key === PROBE_KEY) this.probes++;
    else this.calls++;
    if (this.mode === 'fail') return Promise.reject(new Error('connection refused'));
    if (this.mode === 'hang') return new Promise<ConsumeResult>(() => undefined);
    return Promise.resolve(this.inner.consume(key, rule, nowMs, cost));
  }
  get(key: string, rule: StoreRule, nowMs: number): Promise<ConsumeResult | null> {
    if (this.mode === 'fail') return Promise.reject(new Error('connection refused'));
    if (this.mode === 'hang') return new Promise<ConsumeResult | null>(() => undefined);
    return this.inner.get(key, rule, nowMs);
  }
  reset(key: string): Promise<void> {
    return this.inner.reset(key);
  }
}

describe('withTimeout', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('clears its timer when the call answers first', async () => {
    await expect(withTimeout(() => Promise.resolve(7), 500)).resolves.toBe(7);
    await expect(withTimeout(() => Promise.reject(new Error('down')), 500)).rejects.toThrow('down');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects after the timeout, and a late rejection of the abandoned call is not left unhandled', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      let rejectLate!: (error: Error) => void;
      const pending = withTimeout(() => new Promise<number>((_, reject) => (rejectLate = reject)), 50);
      const outcome = expect(pending).rejects.toBeInstanceOf(StoreTimeoutError);
      await jest.advanceTimersByTimeAsync(50);
      await outcome;
      expect(jest.getTimerCount()).toBe(0);
      rejectLate(new Error('late'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('turns a synchronous throw into a rejection', async () => {
    await expect(
      withTimeout(() => {
        throw new Error('bad');
      }, 50),
    ).rejects.toThrow('bad');
  });
});

describe('store outage options', () => {
  it('defaults to a 500 ms timeout, the per-instance fallback store (fail open without it), and a 5 s startup wait that does not require the store', () => {
    const config = resolveRateLimitConfig({});
    expect(config).toMatchObject({ storeTimeoutMs: 500, onStoreError: 'allow', storeFallback: true, storeStartupTimeoutMs: 5_000, requireStore: false });
    expect(config.storeBreaker).toEqual({ windowMs: 10_000, failures: 5, clients: 3 });
    expect(config.denialCacheSize).toBe(10_000);
  });

  it('reports bad values with the other problems', () => {
    let problems: readonly string[] = [];
    try {
      resolveRateLimitConfig({
        storeTimeoutMs: 0,
        onStoreError: 'open' as never,
        storeFallback: 'yes' as never,
        requireStore: 1 as never,
        storeStartupTimeoutMs: -5,
        rules: [{ limit: 1, windowMs: 1000, onStoreError: 'closed' as never }],
      });
    } catch (error) {
      if (!(error instanceof RateLimitConfigurationError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([
      `rules[0].onStoreError must be 'allow' (admit requests uncounted while the store is down) or 'deny' (answer 503), got "closed".`,
      'storeTimeoutMs must be a positive integer, got 0.',
      `onStoreError must be 'allow' (admit requests uncounted while the store is down) or 'deny' (answer 503), got "open".`,
      'storeFallback must be true or false, got "yes".',
      'requireStore must be true or false, got 1.',
      'storeStartupTimeoutMs must be a positive integer, got -5.',
    ]);
  });
});

describe.each(ADAPTERS)('store outage on %s', (adapter) => {
  let t: TestApp;
  let clock: FakeClock;
  let store: SwitchableStore;
  let down: StoreDownEvent[];
  let up: StoreUpEvent[];
  let spies: jest.SpyInstance[];

  beforeEach(() => {
    clock = new FakeClock(START);
    store = new SwitchableStore();
    down = [];
    up = [];
    spies = (['log', 'warn', 'error'] as const).map((level) => jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined));
  });
  afterEach(async () => {
    await t.close();
    for (const spy of spies) spy.mockRestore();
  });

  const start = (options: RateLimitModuleOptions = {}) =>
    startApp(
      adapter,
      protectionModule({
        clock,
        store,
        storage: memoryStorage(),
        events: { onStoreDown: (e) => void down.push(e), onStoreUp: (e) => void up.push(e) },
        storeProbeIntervalMs: 5,
        // These tests assert the onStoreError answers (the default before storeFallback became true).
        storeFallback: false,
        ...options,
      }),
    );
  const from = () => t.http().get('/data').set('X-Forwarded-For', CLIENT);
  /** The store answers again; resolves once the background probe has seen it. */
  const backUp = async () => {
    store.mode = 'up';
    const health = t.app.get(Rampart).health;
    await until(() => !health.isDown);
  };
  const logged = (level: 'log' | 'warn' | 'error') =>
    spies[['log', 'warn', 'error'].indexOf(level)]!.mock.calls.map(([message]) => String(message)).filter((m) => m.startsWith('Rate-limit store'));

  it('admits uncounted requests without rate-limit headers while the store fails (allow), and recovers once the probe gets an answer', async () => {
    t = await start();
    await from().expect(200).expect('ratelimit', /;r=1;/);
    store.mode = 'fail';
    for (let i = 0; i < 4; i++) {
      const res = await from().expect(200);
      expect(res.headers['ratelimit']).toBeUndefined();
      expect(res.headers['ratelimit-policy']).toBeUndefined();
    }
    expect(logged('warn')).toEqual(["Rate-limit store unavailable (connection refused): answering by each rule's onStoreError policy until it answers again."]);
    expect(down).toEqual([{ reason: 'connection refused', atMs: START }]);

    clock.advance(5_000);
    await backUp();
    await from().expect(200).expect('ratelimit', /;r=0;/); // the store's count resumes where it was
    await from().expect(429);
    expect(logged('log')).toEqual(['Rate-limit store available again after 5000 ms.']);
    expect(up).toEqual([{ downForMs: 5_000, atMs: START + 5_000 }]);
    expect(logged('warn')).toHaveLength(1);
    expect(store.calls).toBe(4); // not called by requests while down: the probe tries it
    expect(store.probes).toBeGreaterThan(0);
  });

  it('answers 503 with Retry-After: 1 and a problem body while the store fails (deny)', async () => {
    t = await start({ onStoreError: 'deny' });
    store.mode = 'fail';
    const res = await from().expect(503).expect('retry-after', '1');
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The rate-limit store is unavailable, so this request cannot be admitted. Retry in 1 s.',
      retryAfterSeconds: 1,
    });
    await from().expect(503);
    await backUp();
    await from().expect(200);
    expect(down).toHaveLength(1);
    expect(up).toHaveLength(1);
  });

  it('lets a rule override the module policy, both ways', async () => {
    t = await start({ onStoreError: 'deny', rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window', onStoreError: 'allow' }] });
    store.mode = 'fail';
    await from().expect(200);
    await t.close();
    t = await start({ rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window', onStoreError: 'deny' }] });
    await from().expect(503).expect('retry-after', '1');
    // The /api route's own rule has no override: the module's 'allow' applies to it.
    await t.http().get('/api').set('X-Forwarded-For', CLIENT).expect(200);
  });

  it('keeps limiting per instance in the fallback memory store while the store is down', async () => {
    t = await start({ storeFallback: true, onStoreError: 'deny' });
    store.mode = 'fail';
    await from().expect(200).expect('ratelimit', /;r=1;/);
    await from().expect(200).expect('ratelimit', /;r=0;/);
    await from().expect(429).expect('retry-after', '60');
    expect(logged('warn')).toEqual([
      'Rate-limit store unavailable (connection refused): answering by the in-process fallback store (limits hold per instance) until it answers again.',
    ]);
    await backUp();
    await from().expect(200).expect('ratelimit', /;r=1;/); // the shared store decides again
    expect(up).toHaveLength(1);
  });

  it('never holds a request longer than storeTimeoutMs when the store hangs', async () => {
    t = await start({ storeTimeoutMs: 50 });
    await from().expect(200);
    store.mode = 'hang';
    const startedAt = performance.now();
    const res = await from().expect(200);
    const tookMs = performance.now() - startedAt;
    expect(tookMs).toBeGreaterThanOrEqual(45);
    expect(tookMs).toBeLessThan(200);
    expect(res.headers['ratelimit']).toBeUndefined();
    expect(down).toEqual([{ reason: 'timed out after 50 ms', atMs: START }]);
    await backUp();
    await from().expect(200).expect('ratelimit', /;r=0;/);
    expect(up).toHaveLength(1);
  });

  it("emits rampart.store.down and rampart.store.up on the app's EventEmitter2", async () => {
    const app = protectionModule({ clock, store, storage: memoryStorage() });
    t = await startApp(adapter, { imports: [EventEmitterModule.forRoot(), ...app.imports], controllers: app.controllers });
    const emitted: string[] = [];
    const emitter = t.app.get(EventEmitter2);
    emitter.on(RAMPART_EVENTS.storeDown, () => emitted.push('down'));
    emitter.on(RAMPART_EVENTS.storeUp, () => emitted.push('up'));
    store.mode = 'fail';
    await from().expect(200);
    await from().expect(200);
    await backUp();
    await from().expect(200);
    expect(emitted).toEqual(['down', 'up']);
  });

  it('still handles a failing ViolationStore while answering from the fallback store', async () => {
    const inner = memoryStorage();
    const storage = {
      ...inner,
      violations: Object.assign(Object.create(inner.violations) as typeof inner.violations, {
        record: async (_violation: Violation) => {
          throw new Error('connection reset');
        },
      }),
    };
    t = await start({ storeFallback: true, storage });
    store.mode = 'fail';
    await from().expect(200);
    await from().expect(200);
    await from().expect(429).expect('retry-after', '60');
    const errors = () => spies[2]!.mock.calls.map(([m]) => String(m));
    // Held while the store is down, written when it is back: there the ViolationStore fails too.
    expect(errors()).toEqual([]);
    await backUp();
    await from().expect(200);
    await until(() => errors().length > 0);
    expect(logged('error')).toEqual([]);
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatch(/^Violation not recorded \(ViolationStore failed twice: connection reset\)/);
    expect(spies[0]!.mock.calls.map(([m]) => String(m))).toContain('Wrote 0 violations held while the store was down; 1 failed again and were logged.');
  });

  it('keeps the held violations it has not written yet when the store goes down again during the catch-up', async () => {
    const inner = memoryStorage();
    let releaseFirstWrite!: () => void;
    const firstWrite = new Promise<void>((resolve) => (releaseFirstWrite = resolve));
    let writes = 0;
    const storage = {
      ...inner,
      violations: Object.assign(Object.create(inner.violations) as typeof inner.violations, {
        record: async (violation: Violation) => {
          if (++writes === 1) await firstWrite;
          return inner.violations.record(violation);
        },
      }),
    };
    t = await start({ storeFallback: true, storage, escalation: { blockAfterViolations: 10 } });
    store.mode = 'fail';
    await from().expect(200);
    await from().expect(200);
    await from().expect(429);
    await from().expect(429); // two violations held
    await backUp(); // the catch-up starts, its first write stalls
    await until(() => writes === 1);
    store.mode = 'fail';
    await from().expect(429); // down again (a third violation, held)
    releaseFirstWrite();
    await until(() => spies[0]!.mock.calls.some(([m]) => String(m).startsWith('Wrote ')));
    expect(await inner.violations.count(CLIENT, 0)).toBe(1);
    await backUp();
    await until(() => spies[0]!.mock.calls.filter(([m]) => String(m).startsWith('Wrote ')).length === 2);
    expect(spies[0]!.mock.calls.map(([m]) => String(m)).filter((m) => m.startsWith('Wrote '))).toEqual([
      'Wrote 1 violation held while the store was down.',
      'Wrote 2 violations held while the store was down.',
    ]);
    expect(await inner.violations.count(CLIENT, 0)).toBe(3);
  });

  it('holds violations met while the store is down and writes them when it is back, where they count towards a block', async () => {
    const storage = memoryStorage();
    const violations: Array<{ recorded: boolean }> = [];
    t = await start({
      storeFallback: true,
      storage,
      escalation: { blockAfterViolations: 2 },
      events: { onViolation: (v) => void violations.push({ recorded: v.recorded }) },
    });
    store.mode = 'fail';
    await from().expect(200);
    await from().expect(200);
    await from().expect(429); // the first violation, from the fallback store: held
    expect(violations).toEqual([{ recorded: false }]);
    expect(await storage.violations.count(CLIENT, 0)).toBe(0);
    await backUp();
    await from().expect(200); // the shared store answers again: the held violation is written
    await until(() => spies[0]!.mock.calls.some(([m]) => String(m).startsWith('Wrote ')));
    expect(spies[0]!.mock.calls.map(([m]) => String(m))).toContain('Wrote 1 violation held while the store was down.');
    expect(await storage.violations.count(CLIENT, 0)).toBe(1);
    await from().expect(200);
    // The second violation counts with the held one: blocked for 15 min.
    await from().expect(429).expect('retry-after', '900');
    expect(violations).toEqual([{ recorded: false }, { recorded: true }]);
  });

  it('never makes a request wait for a store that is down: only the background probe tries it', async () => {
    t = await start({ storeTimeoutMs: 200, storeProbeIntervalMs: 20 });
    store.mode = 'hang';
    await from().expect(200); // waits for the timeout, and marks the store down
    const callsBefore = store.calls;
    const startedAt = performance.now();
    for (let i = 0; i < 5; i++) await from().expect(200);
    await Promise.all([from().expect(200), from().expect(200), from().expect(200)]);
    expect(performance.now() - startedAt).toBeLessThan(150);
    expect(store.calls).toBe(callsBefore);
    await until(() => store.probes >= 2); // one every 20 ms after the last one ended
    await backUp();
    await from().expect(200).expect('ratelimit', /;r=1;/); // the first request the store counted
    expect(up).toHaveLength(1);
  });
});
