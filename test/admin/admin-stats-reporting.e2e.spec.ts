import { memoryStorage, type MemoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS } from '../support/http-app.js';
import type { AdminTestApp } from './admin.app.js';
import { getStats, startStatsApp, traffic } from './admin-stats.app.js';

const T0 = Date.UTC(2030, 0, 1);
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * The statistics reporter on its own timer: two apps sharing one storage (two instances of one
 * process), only `setInterval` faked, so that requests run on real sockets.
 */
describe.each(ADAPTERS)('statistics reported on a timer, on %s', (adapter) => {
  let storage: MemoryStorage;
  let apps: AdminTestApp[];
  const warnings: string[] = [];
  const logs: string[] = [];
  const logger = { log: (m: string) => logs.push(m), warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };

  beforeEach(async () => {
    jest.useFakeTimers({
      doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout'],
    });
    storage = memoryStorage();
    const clock = new FakeClock(T0);
    apps = [await startStatsApp(adapter, { storage, clock, logger, logging: false }), await startStatsApp(adapter, { storage, clock, logger, logging: false })];
    clock.set(T0 + 1_000);
  });
  afterEach(async () => {
    for (const app of apps) await app.close();
    jest.useRealTimers();
  });

  it("writes each instance's figures every reportIntervalMs without being asked, logs a failing storage once, and never fails a request for it", async () => {
    const [a, b] = apps as [AdminTestApp, AdminTestApp];
    expect(await traffic(a, '/api', '203.0.113.1', 3)).toEqual([200, 200, 429]);
    // Not reported yet: B sees its own figures and none of A's.
    expect((await getStats(b).expect(200)).body).toMatchObject({ fleet: true, requests: 0, instances: [expect.anything()] });

    jest.advanceTimersByTime(5_000);
    await settle();
    expect((await getStats(b).expect(200)).body).toMatchObject({ requests: 3, admitted: 2, limited: 1, violations: 1, instances: [{}, {}] });

    const put = jest.spyOn(storage.stats, 'put').mockRejectedValue(new Error('disk full'));
    jest.advanceTimersByTime(15_000);
    await settle();
    expect(put).toHaveBeenCalledTimes(6); // three reports of each instance
    expect(warnings).toEqual([expect.stringMatching(/statistics summary could not be written.*disk full/), expect.stringMatching(/disk full/)]);
    expect(await traffic(a, '/api', '203.0.113.2', 1)).toEqual([200]);

    put.mockRestore();
    jest.advanceTimersByTime(5_000);
    await settle();
    expect(logs.filter((m) => /written to the storage again/.test(m))).toHaveLength(2);
    expect((await getStats(b).expect(200)).body).toMatchObject({ requests: 4, limited: 1 });
    expect(warnings).toHaveLength(2);
  });
});
