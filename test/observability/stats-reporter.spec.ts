import { createRampart, type RampartOptions } from '../../lib/engine/index.js';
import type { InstanceStatsSummary } from '../../lib/observability/stats-summary.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import type { StatsStore } from '../../lib/storage/stats-store.interface.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const RULES: RampartOptions['rules'] = [{ name: 'r', limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }];

/** A stats store that records each write, and fails while `failing` is set. */
class RecordingStatsStore implements StatsStore {
  readonly writes: { summary: InstanceStatsSummary; expiresAtMs: number }[] = [];
  failing: Error | undefined;
  put(summary: InstanceStatsSummary, expiresAtMs: number): Promise<void> {
    if (this.failing) return Promise.reject(this.failing);
    this.writes.push({ summary, expiresAtMs });
    return Promise.resolve();
  }
  list(): Promise<InstanceStatsSummary[]> {
    return Promise.resolve(this.writes.map((w) => w.summary));
  }
}

function started(store: StatsStore, stats: RampartOptions['stats'] = { reportIntervalMs: 5_000, retentionMs: 900_000 }) {
  const clock = new FakeClock(T0);
  const lines: string[] = [];
  const logger = { log: (m: string) => lines.push(`log ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };
  const rampart = createRampart({ clock, logger, rules: RULES, stats, storage: { ...memoryStorage(), stats: store } });
  return { rampart, clock, lines };
}

const allowed = (s: InstanceStatsSummary) => s.buckets.reduce((n, b) => n + b.outcomes[0]!, 0);

describe('StatsReporter', () => {
  afterEach(() => jest.useRealTimers());

  it("writes this instance's summary every reportIntervalMs on its own, kept for retentionMs, and a last one at stop", async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const store = new RecordingStatsStore();
    const { rampart, clock } = started(store);
    await rampart.start();
    await rampart.decide({ target: 'GET /x', address: '203.0.113.7' });
    expect(store.writes).toHaveLength(0);
    clock.advance(5_000);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]!.summary.instance).toBe(rampart.stats!.instance);
    expect(store.writes[0]!.summary.atMs).toBe(T0 + 5_000);
    expect(store.writes[0]!.expiresAtMs).toBe(T0 + 5_000 + 900_000);
    expect(allowed(store.writes[0]!.summary)).toBe(1);
    await rampart.decide({ target: 'GET /x', address: '203.0.113.7' });
    await jest.advanceTimersByTimeAsync(10_000);
    expect(store.writes).toHaveLength(3);
    expect(allowed(store.writes[2]!.summary)).toBe(2);
    await rampart.decide({ target: 'GET /x', address: '203.0.113.7' });
    await rampart.stop();
    expect(store.writes).toHaveLength(4);
    expect(store.writes[3]!.summary.buckets[0]!.outcomes[1]).toBe(1);
    // Stopped: the timer writes no more.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(store.writes).toHaveLength(4);
    expect(rampart.reporter!.started).toBe(false);
  });

  it('logs a failed write once per outage, never throws, and says when writes succeed again', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const store = new RecordingStatsStore();
    const { rampart, lines } = started(store);
    await rampart.start();
    store.failing = new Error('connection refused');
    await jest.advanceTimersByTimeAsync(15_000);
    expect(await rampart.reporter!.flush()).toBe(false);
    expect(lines.filter((l) => l.includes('statistics'))).toEqual([
      expect.stringMatching(/^warn .*statistics summary could not be written.*connection refused/),
    ]);
    store.failing = undefined;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(store.writes).toHaveLength(1);
    expect(lines.filter((l) => l.includes('statistics'))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^log .*written to the storage again/);
    // A second outage is logged again, once; stop does not wait for a storage that is failing.
    store.failing = new Error('down again');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(await rampart.reporter!.stop()).toBe(false);
    expect(lines.filter((l) => l.startsWith('warn') && l.includes('statistics'))).toHaveLength(2);
    await rampart.stop();
  });

  it('bounds a write by the storage step timeout', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const hanging: StatsStore = { put: () => new Promise(() => undefined), list: () => Promise.resolve([]) };
    const { rampart, lines } = started(hanging);
    const flushed = rampart.reporter!.flush();
    // storeTimeoutMs 500 by default: the step timeout is 10 times that.
    await jest.advanceTimersByTimeAsync(5_000);
    expect(await flushed).toBe(false);
    expect(lines.at(-1)).toMatch(/timed out after 5000 ms/);
  });

  it('writes nothing without storage.stats, or with stats: false', () => {
    const { stats: _none, ...withoutStats } = memoryStorage();
    const clock = new FakeClock(T0);
    expect(createRampart({ clock, storage: withoutStats }).reporter).toBeUndefined();
    expect(createRampart({ clock, storage: withoutStats }).stats).toBeDefined();
    expect(createRampart({ clock, stats: false }).reporter).toBeUndefined();
    expect(createRampart({ clock }).reporter).toBeDefined();
  });
});
