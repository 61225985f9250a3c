/**
 * Rampart owns the order of its timers: the alert and statistics timers start only once the
 * storage has started, so that a start that fails (`requireStore`, or a start after `stop`) leaves
 * no timer writing to a storage that is closed. Jest fake timers count the timers left.
 */
import { createRampart, type RampartOptions } from '../../lib/engine/index.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';

const START = Date.UTC(2030, 0, 1);
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A Rampart with alerts and a statistics reporter (the memory storage keeps summaries). */
function withTimers(options: RampartOptions = {}) {
  return createRampart({
    clock: new FakeClock(START),
    logger: silent,
    rules: [{ limit: 1, windowMs: 60_000 }],
    alerts: { intervalMs: 10_000, thresholds: { blockRate: false, violationsPerMinute: { warning: 2 } } },
    ...options,
  });
}

describe('Rampart start and stop', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('runs the ban-sync, alert and statistics timers once started, and none once stopped', async () => {
    const rampart = withTimers();
    await rampart.start();
    expect(jest.getTimerCount()).toBe(3);
    await rampart.stop();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('leaves no timer running when requireStore refuses to start without the storage', async () => {
    const storage = memoryStorage();
    const rampart = withTimers({
      storage: { ...storage, init: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:27017')) },
      requireStore: true,
    });
    await expect(rampart.start()).rejects.toThrow('the storage was not ready within storeStartupTimeoutMs');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('leaves no timer running when started after stop()', async () => {
    const rampart = withTimers();
    await rampart.stop();
    await expect(rampart.start()).rejects.toThrow('cannot start again');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('starts no timer when stopped while its start was in flight', async () => {
    const storage = memoryStorage();
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const rampart = withTimers({ storage: { ...storage, init: () => opened } });
    const starting = rampart.start();
    const stopping = rampart.stop();
    open();
    await Promise.allSettled([starting, stopping]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('shuts down once, however often it is asked: the storage is closed once and nothing writes to it after', async () => {
    const storage = memoryStorage();
    const close = jest.fn(() => Promise.resolve());
    const put = jest.spyOn(storage.stats!, 'put');
    const rampart = withTimers({ storage: { ...storage, close } });
    await rampart.start();
    await Promise.all([rampart.stop(), rampart.close()]);
    await rampart.stop();
    expect(close).toHaveBeenCalledTimes(1);
    expect(put).toHaveBeenCalledTimes(1); // the last summary, once
    expect(jest.getTimerCount()).toBe(0);
  });
});
