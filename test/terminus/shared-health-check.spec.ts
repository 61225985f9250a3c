/**
 * SharedHealthCheck: checks that arrive while a probe is in flight share it (with no reuse, too),
 * and its result answers the checks within `reuseMs` by the module's clock. A store whose count
 * waits until released shows the overlap.
 */
import { createRampart } from '../../lib/engine/index.js';
import { SharedHealthCheck } from '../../lib/terminus/index.js';
import { FakeClock } from '../support/fake-clock.js';

describe('SharedHealthCheck', () => {
  it('makes one probe for checks that arrive while it is in flight, and a new one after it (reuseMs: 0)', async () => {
    const rampart = createRampart({ clock: new FakeClock(), logger: { log: () => undefined, warn: () => undefined, error: () => undefined } });
    await rampart.start();
    const { store } = rampart.config;
    const consume = store.consume.bind(store);
    let release!: () => void;
    const calls = jest.spyOn(store, 'consume').mockImplementation(async (...args) => {
      await new Promise<void>((resolve) => (release = resolve));
      return consume(...args);
    });
    const checks = new SharedHealthCheck(rampart);
    const pending = Array.from({ length: 5 }, () => checks.check(0));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const answers = await Promise.all(pending);
    expect(calls).toHaveBeenCalledTimes(1);
    expect(answers.map((health) => health.state)).toEqual(Array(5).fill('up'));
    const next = checks.check(0);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await next;
    expect(calls).toHaveBeenCalledTimes(2);
    calls.mockRestore();
    await rampart.stop();
  });

  it('refuses a reuseMs that is not an integer of 0 or more', () => {
    const checks = new SharedHealthCheck(createRampart());
    expect(() => checks.check(-1)).toThrow('reuseMs must be an integer of 0 or more (milliseconds), got -1.');
  });
});
