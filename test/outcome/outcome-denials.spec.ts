/**
 * How an outcome-aware rule's refusals are judged, on the engine without Nest (memory store): a
 * refusal by units that requests in flight hold is no violation and starts no block, one by
 * counted outcomes alone is and does; no client reaches another's counted outcomes; `waitMs` waits
 * for units in flight (never on a shadow rule, never more requests than the limit, never past
 * shutdown); a call whose interceptor is never reached is counted; with `storeFallback`, counted
 * outcomes held by the fallback store start the block during an outage.
 */
import type { ConsumeResult, StoreRule } from '../../lib/core/rule-decision.js';
import { createRampart, type Rampart } from '../../lib/engine/rampart.js';
import type { RampartOptions } from '../../lib/engine/rampart-options.interface.js';
import type { Verdict } from '../../lib/engine/verdict.js';
import { OutcomeSettler, UNTAKEN_CALL_MS } from '../../lib/outcome/outcome-settler.js';
import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import type { RateLimitStore } from '../../lib/storage/rate-limit-store.interface.js';
import { FakeClock } from '../support/fake-clock.js';

const HOUR_MS = 3_600_000;
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
const FAILED = { protocol: 'http', status: 401 } as const;
const SUCCEEDED = { protocol: 'http', status: 201 } as const;

/** The memory store, its reads counted, every call failing while `down`. */
class CountingStore implements RateLimitStore {
  readonly inner = new MemoryRateLimitStore();
  reads = 0;
  down = false;
  /** Consumes to fail before the store answers again. */
  failing = 0;
  consume(key: string, rule: StoreRule, nowMs: number, cost: number): ConsumeResult {
    if (this.down || this.failing-- > 0) throw new Error('connection reset');
    return this.inner.consume(key, rule, nowMs, cost);
  }
  get(key: string, rule: StoreRule, nowMs: number) {
    this.reads++;
    return this.down ? Promise.reject(new Error('connection reset')) : this.inner.get(key, rule, nowMs);
  }
  reset(key: string) {
    return this.inner.reset(key);
  }
  refund(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number) {
    if (this.down) throw new Error('connection reset');
    return this.inner.refund(key, rule, nowMs, cost, reservedAtMs);
  }
}

describe('refusals of an outcome-aware rule', () => {
  let rampart: Rampart;
  let store: CountingStore;
  let violations: string[];
  let clock: FakeClock;
  const others: Rampart[] = [];

  /** An instance on the store and clock of the last `start` (a `login` rule with `rule`'s fields). */
  async function instance(rule: Record<string, unknown>, options: Partial<RampartOptions> = {}): Promise<Rampart> {
    const created = createRampart({
      clock,
      logger: silent,
      logging: false,
      escalation: false,
      store,
      rules: [{ name: 'login', limit: 2, windowMs: HOUR_MS, algorithm: 'fixed-window', countIf: 'failed', blockDurationMs: HOUR_MS, ...rule }],
      ...options,
    });
    await created.start();
    return created;
  }

  /** Another instance on the same store and clock. */
  async function another(rule: Record<string, unknown>): Promise<Rampart> {
    const other = await instance(rule);
    others.push(other);
    return other;
  }

  async function start(rule: Record<string, unknown>, options: Partial<RampartOptions> = {}): Promise<void> {
    store = new CountingStore();
    violations = [];
    clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 1));
    rampart = await instance(rule, { events: { onViolation: (event) => void violations.push(event.key) }, ...options });
  }
  afterEach(async () => {
    await rampart.stop();
    for (const other of others.splice(0)) await other.stop();
  });

  const decide = (identity = 'alice', on = rampart) => Promise.resolve(on.decide({ target: 'POST /login', address: '198.51.100.7', identity }));
  /** An admitted request in flight, as the HTTP guard holds it: settled by `end`. */
  async function inFlight(
    identity = 'alice',
    on = rampart,
  ): Promise<{ verdict: Verdict; end(outcome: typeof FAILED | typeof SUCCEEDED | undefined): Promise<void> }> {
    const verdict = await decide(identity, on);
    expect(verdict.outcome).toBe('admitted');
    const reservation = on.outcomes.reserve(verdict, {})!;
    return { verdict, end: (outcome) => on.outcomes.settle(reservation, outcome) };
  }
  /**
   * Alice's two units taken as another instance would (in the store, unknown here): her next
   * request is refused as held, after one read of her counted outcomes, and is no violation.
   */
  async function refusedAsHeldElsewhere(): Promise<void> {
    await decide();
    await decide();
    expect(refusal(await decide())).toEqual({ retryAfterMs: 1_000, held: true });
    expect(store.reads).toBe(1);
    expect(violations).toEqual([]);
  }
  const refusal = (verdict: Verdict) =>
    verdict.outcome === 'limited' ? { retryAfterMs: verdict.retryAfterMs, held: verdict.rule.result.heldInFlight === true } : verdict.outcome;

  it('refuses without a violation while requests in flight hold the units, without reading the counted outcomes', async () => {
    await start({});
    const first = await inFlight();
    const second = await inFlight();
    expect(refusal(await decide())).toEqual({ retryAfterMs: 1_000, held: true });
    expect(refusal(await decide())).toEqual({ retryAfterMs: 1_000, held: true });
    // This instance's own requests hold the units: the counted outcomes cannot fill the limit.
    expect(store.reads).toBe(0);
    await first.end(SUCCEEDED);
    const third = await inFlight();
    await second.end(FAILED);
    await third.end(FAILED);
    // Two failures alone fill the limit: a violation, which starts the hour's block.
    const blocked = await decide();
    expect(blocked).toMatchObject({ outcome: 'limited', retryAfterMs: HOUR_MS });
    expect(violations).toHaveLength(1);
    expect(await decide()).toMatchObject({ outcome: 'limited', retryAfterMs: HOUR_MS });
    expect(violations).toHaveLength(1);
  });

  it('reads the counted outcomes when the units are held elsewhere (another instance)', async () => {
    await start({});
    await refusedAsHeldElsewhere();
  });

  it("lets no client reach another's counted outcomes, whatever identity it gives", async () => {
    await start({});
    for (const attacker of ['alice~counted', '~counted:alice', '~counted:login:POST /login:alice', 'login:POST /login:alice']) {
      for (let i = 0; i < 2; i++) await (await inFlight(attacker)).end(FAILED);
    }
    // Her counted outcomes are read, and are none.
    await refusedAsHeldElsewhere();
  });

  it('counts a request whose client went away (no outcome) under every rule', async () => {
    await start({ countIf: 'succeeded' });
    await (await inFlight()).end(undefined);
    await (await inFlight()).end(undefined);
    expect(refusal(await decide())).toMatchObject({ retryAfterMs: HOUR_MS });
  });

  it('waits for units in flight with waitMs, and is admitted once one comes back', async () => {
    await start({ waitMs: 10_000 });
    const first = await inFlight();
    await inFlight();
    let answered: Verdict | undefined;
    const waiting = decide().then((v) => (answered = v));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBeUndefined();
    await first.end(SUCCEEDED);
    expect((await waiting).outcome).toBe('admitted');
  });

  it('lets at most the limit of requests wait at once; the others are refused at once', async () => {
    await start({ waitMs: 10_000 });
    const first = await inFlight();
    await inFlight();
    const waiting = [decide(), decide()];
    expect(refusal(await decide())).toEqual({ retryAfterMs: 1_000, held: true });
    await first.end(SUCCEEDED);
    // One unit came back: one waiting request has it, the other waits on until shutdown.
    expect((await Promise.race(waiting)).outcome).toBe('admitted');
    await rampart.outcomes.stop();
    expect((await Promise.all(waiting)).map((v) => v.outcome).sort()).toEqual(['admitted', 'limited']);
  });

  it('never makes a shadow rule wait: it refuses nothing', async () => {
    await start({ waitMs: 10_000, shadow: true });
    await inFlight();
    await inFlight();
    const started = performance.now();
    expect((await decide()).outcome).toBe('admitted');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('counts a call whose interceptor is never reached (a later guard refused it)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance'] });
    try {
      await start({});
      for (let i = 0; i < 2; i++) rampart.outcomes.hold({}, await decide(), { protocol: 'rpc' });
      expect(refusal(await decide())).toEqual({ retryAfterMs: 1_000, held: true });
      jest.advanceTimersByTime(UNTAKEN_CALL_MS);
      await rampart.outcomes.drain();
      expect(refusal(await decide())).toMatchObject({ retryAfterMs: HOUR_MS });
    } finally {
      jest.useRealTimers();
    }
  });

  it('starts the block from the counted outcomes the fallback store holds while the store is down', async () => {
    await start({}, { storeFallback: true });
    store.down = true;
    await (await inFlight()).end(FAILED);
    await (await inFlight()).end(FAILED);
    expect(refusal(await decide())).toMatchObject({ retryAfterMs: HOUR_MS });
    expect(violations).toHaveLength(1);
  });

  it('takes the units of a request that waited across a window edge in the window it was admitted in', async () => {
    await start({ limit: 1, windowMs: 10_000, waitMs: 10_000 });
    // Another instance, whose rule does not wait: it answers at once.
    const other = await another({ limit: 1, windowMs: 10_000 });
    clock.advance(8_000);
    const first = await inFlight();
    const waiting = decide();
    clock.advance(2_000);
    await first.end(SUCCEEDED);
    const waited = await waiting;
    expect(waited.outcome).toBe('admitted');
    // Its unit is the new window's: a fresh request of that window is refused, not admitted besides.
    expect(refusal(await decide('alice', other))).toEqual({ retryAfterMs: 1_000, held: true });
    // And a success gives it back there.
    await rampart.outcomes.settle(rampart.outcomes.reserve(waited, {})!, SUCCEEDED);
    expect((await decide('alice', other)).outcome).toBe('admitted');
  });

  it('gives back the units of every rule for a refusal only by units in flight: it is no failed login', async () => {
    await start(
      { limit: 1 },
      {
        rules: [
          { name: 'login', limit: 1, windowMs: HOUR_MS, algorithm: 'fixed-window', countIf: 'failed', blockDurationMs: HOUR_MS },
          { name: 'daily', limit: 3, windowMs: HOUR_MS, algorithm: 'fixed-window', countIf: 'failed', keyResolver: () => 'address' },
        ],
      },
    );
    const first = await inFlight();
    for (let i = 0; i < 5; i++) {
      const refused = await decide();
      expect(refusal(refused)).toEqual({ retryAfterMs: 1_000, held: true });
      await rampart.outcomes.refused(refused, { protocol: 'http' });
    }
    await first.end(SUCCEEDED);
    // The daily rule counted none of the five: three failures of other users still reach it.
    for (const user of ['bob', 'carol', 'dave']) await (await inFlight(user)).end(FAILED);
    expect(refusal(await decide('erin'))).toMatchObject({ held: false });
  });

  it('never remembers a refusal by units in flight: units given back on another instance are seen at once', async () => {
    await start({ limit: 2 });
    const other = await another({ limit: 2 });
    const local = await inFlight();
    const remote = await inFlight('alice', other);
    expect(refusal(await decide())).toEqual({ retryAfterMs: 1_000, held: true });
    await remote.end(SUCCEEDED);
    expect((await decide()).outcome).toBe('admitted');
    await local.end(SUCCEEDED);
  });

  it("reads the counted outcomes when this instance's requests in flight took their units in an earlier window", async () => {
    await start({ windowMs: 10_000 });
    clock.advance(8_000);
    const slow = await inFlight();
    clock.advance(2_000);
    for (let i = 0; i < 2; i++) await (await inFlight()).end(FAILED);
    // Two failures of this window fill its limit: a violation, and the block, however slow the first is.
    expect(refusal(await decide())).toMatchObject({ retryAfterMs: HOUR_MS });
    expect(violations).toHaveLength(1);
    await slow.end(SUCCEEDED);
  });

  it('cancels the lease of a call its interceptor took, and counts at shutdown the calls still untaken', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance'] });
    try {
      await start({ limit: 3 });
      const timers = jest.getTimerCount();
      const taken = {};
      rampart.outcomes.hold(taken, await decide(), { protocol: 'rpc' });
      expect(jest.getTimerCount()).toBe(timers + 1);
      await OutcomeSettler.take(taken)!({ protocol: 'rpc' });
      // Held twice (Rampart's guard run twice on one call): one outcome settles both, one lease left.
      const twice = {};
      rampart.outcomes.hold(twice, await decide(), { protocol: 'rpc' });
      rampart.outcomes.hold(twice, await decide(), { protocol: 'rpc' });
      expect(jest.getTimerCount()).toBe(timers + 1);
      await OutcomeSettler.take(twice)!({ protocol: 'rpc' });
      expect(jest.getTimerCount()).toBe(timers);
      // Three units given back: three calls fit, held untaken until shutdown, which counts them.
      for (let i = 0; i < 3; i++) rampart.outcomes.hold({}, await decide(), { protocol: 'rpc' });
      expect(jest.getTimerCount()).toBe(timers + 3);
      await rampart.outcomes.stop();
      expect(jest.getTimerCount()).toBe(timers);
      expect(refusal(await decide())).toMatchObject({ retryAfterMs: HOUR_MS });
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives back to the fallback store the units it gave a request that waited', async () => {
    await start({ limit: 1, waitMs: 10_000 }, { storeFallback: true });
    const other = await another({ limit: 1 });
    const first = await inFlight();
    const waiting = decide();
    // The waiting request's next look at the store, a millisecond later, fails: the fallback store admits it.
    clock.advance(1);
    store.failing = 1;
    await first.end(SUCCEEDED);
    const waited = await waiting;
    expect(waited.outcome).toBe('admitted');
    const held = await inFlight();
    // Its success gives its unit back to the fallback store, not the store's to the request after it.
    await rampart.outcomes.settle(rampart.outcomes.reserve(waited, {})!, SUCCEEDED);
    expect(refusal(await decide('alice', other))).toEqual({ retryAfterMs: 1_000, held: true });
    await held.end(SUCCEEDED);
  });

  it.each<[string, { consecutive?: true }]>([
    ['token-bucket', {}],
    ['gcra', {}],
    ['fixed-window', { consecutive: true }],
  ])("reads the counted outcomes on %s %j, whatever this instance's requests in flight took", async (algorithm, extra) => {
    await start({ algorithm, windowMs: 10_000, ...extra });
    const slow = await inFlight();
    // Refilled by a bucket, or wiped by a success that resets the run: the slow request's unit is no longer counted.
    if (extra.consecutive === true) await (await inFlight()).end(SUCCEEDED);
    else clock.advance(5_000);
    for (let i = 0; i < 2; i++) await (await inFlight()).end(FAILED);
    // Two failures alone fill the limit: a violation, which starts the hour's block.
    expect(refusal(await decide())).toMatchObject({ retryAfterMs: HOUR_MS });
    expect(violations).toHaveLength(1);
    await slow.end(SUCCEEDED);
  });
});
