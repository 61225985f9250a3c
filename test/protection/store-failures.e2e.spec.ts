import { Logger } from '@nestjs/common';
import type { RampartStorage, Violation } from '../../lib/index.js';
import { memoryStorage, type MemoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { protectionModule } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);
const CLIENT = '203.0.113.7';

/** The memory storage, with `violations.record` failing the first `failures` calls (Infinity: always). */
function withFailingRecord(inner: MemoryStorage, failures: number): RampartStorage & { recordCalls: number } {
  let calls = 0;
  const storage = {
    ...inner,
    recordCalls: 0,
    violations: {
      ...inner.violations,
      list: inner.violations.list.bind(inner.violations),
      count: inner.violations.count.bind(inner.violations),
      deleteByKey: inner.violations.deleteByKey.bind(inner.violations),
      purge: inner.violations.purge.bind(inner.violations),
      record: async (violation: Violation) => {
        storage.recordCalls = ++calls;
        if (calls <= failures) throw new Error('connection reset');
        await inner.violations.record(violation);
      },
    },
  };
  return storage;
}

describe.each(ADAPTERS)('store failures on %s', (adapter) => {
  let t: TestApp;
  let errors: jest.SpyInstance;
  beforeEach(() => {
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await t.close();
    errors.mockRestore();
  });

  const from = () => t.http().get('/data').set('X-Forwarded-For', CLIENT);
  const logged = () => errors.mock.calls.map(([message]) => String(message));

  it('answers by the policy when the ViolationStore fails, and logs each lost violation with its content', async () => {
    const inner = memoryStorage();
    const storage = withFailingRecord(inner, Infinity);
    t = await startApp(adapter, protectionModule({ clock: new FakeClock(START), storage }));
    await from().expect(200);
    await from().expect(200);
    const denied = await from().expect(429);
    expect(denied.body.rule).toBe('default');
    expect(storage.recordCalls).toBe(2); // tried, then retried once
    expect(logged()).toEqual([
      `Violation not recorded (ViolationStore failed twice: connection reset): ${JSON.stringify({
        key: CLIENT,
        rule: 'default',
        route: 'ProtectedController.data',
        method: 'GET',
        hits: 3,
        limit: 2,
        atMs: START,
      })}`,
    ]);
    // Nothing was stored, so the policy never reaches 3 violations; each request is still answered.
    for (let i = 0; i < 5; i++) await from().expect(429).expect('retry-after', '60');
    expect(logged()).toHaveLength(6);
    expect(await inner.violations.count(CLIENT, 0)).toBe(0);
  });

  it('keeps a violation that succeeds on the retry, without logging an error', async () => {
    const inner = memoryStorage();
    const storage = withFailingRecord(inner, 1);
    t = await startApp(adapter, protectionModule({ clock: new FakeClock(START), storage }));
    await from().expect(200);
    await from().expect(200);
    await from().expect(429);
    await from().expect(429);
    await from().expect(429).expect('retry-after', '900');
    expect(await inner.violations.count(CLIENT, 0)).toBe(3);
    expect(errors).not.toHaveBeenCalled();
  });

  it('answers by the rule when writing the block fails, and logs it', async () => {
    const inner = memoryStorage();
    const storage: RampartStorage = {
      ...inner,
      bans: Object.assign(Object.create(inner.bans) as typeof inner.bans, {
        put: async () => {
          throw new Error('write concern timeout');
        },
      }),
    };
    t = await startApp(adapter, protectionModule({ clock: new FakeClock(START), storage }));
    await from().expect(200);
    await from().expect(200);
    await from().expect(429);
    await from().expect(429);
    await from().expect(429).expect('retry-after', '60');
    expect(logged()).toHaveLength(1);
    expect(logged()[0]).toMatch(
      /^Escalation of '203\.0\.113\.7' stopped at writing its temporary ban .*: write concern timeout\. The request was answered by its rule alone\.$/,
    );
  });
});
