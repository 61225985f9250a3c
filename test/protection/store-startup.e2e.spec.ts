/**
 * Startup with a storage that is slow, unreachable or unusable: the app starts without it unless
 * `requireStore` says otherwise, answers by the outage policy meanwhile, and takes the storage up
 * (bans included) as soon as its init() and first load succeed.
 */
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { StorageSetupError, type RampartStorage, type RateLimitModuleOptions, type StoreDownEvent } from '../../lib/index.js';
import { Rampart } from '../../lib/engine/rampart.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { protectionModule } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);
const CLIENT = '203.0.113.7';
const OTHER = '203.0.113.8';
const BANNED = '198.51.100.9';

/**
 * A memory storage that is not reachable until `open()`, as a database connection that is not up yet:
 * init() and counter calls wait for `open()`, and init() fails while `failWith` is set.
 */
function gatedStorage() {
  const inner = memoryStorage();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const state = { initCalls: 0, failWith: undefined as Error | undefined };
  const rateLimits: RampartStorage['rateLimits'] = {
    consume: async (...args) => gate.then(() => inner.rateLimits.consume(...args)),
    get: async (...args) => gate.then(() => inner.rateLimits.get(...args)),
    reset: async (key) => gate.then(() => inner.rateLimits.reset(key)),
  };
  const storage: RampartStorage = {
    ...inner,
    rateLimits,
    init: async () => {
      state.initCalls++;
      if (state.failWith) throw state.failWith;
      await gate;
    },
  };
  return { storage, inner, state, open: () => release() };
}

describe.each(ADAPTERS)('storage at startup on %s', (adapter) => {
  let t: TestApp | undefined;
  let spies: jest.SpyInstance[];
  let down: StoreDownEvent[];
  const clock = new FakeClock(START);
  const messages = (level: 'log' | 'warn' | 'error') => spies[['log', 'warn', 'error'].indexOf(level)]!.mock.calls.map(([m]) => String(m));

  beforeEach(() => {
    down = [];
    spies = (['log', 'warn', 'error'] as const).map((level) => jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined));
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    for (const spy of spies) spy.mockRestore();
  });

  const start = (storage: RampartStorage, options: RateLimitModuleOptions = {}) =>
    startApp(
      adapter,
      protectionModule({
        clock,
        storage,
        storeStartupTimeoutMs: 50,
        banSyncIntervalMs: 10,
        storeProbeIntervalMs: 5,
        events: { onStoreDown: (e) => void down.push(e) },
        // These tests assert the onStoreError answers (the default before storeFallback became true).
        storeFallback: false,
        ...options,
      }),
    );
  const from = (address: string) => t!.http().get('/data').set('X-Forwarded-For', address);

  it('starts without a storage that is not ready in time, answers by the policy meanwhile and enforces stored bans once it is', async () => {
    const { storage, inner, open } = gatedStorage();
    await inner.bans.put(
      { target: { type: 'key', key: BANNED }, kind: 'permanent', reason: 'abuse', source: 'admin', createdBy: 'ops', violationCount: 0 },
      START,
    );
    const startedAt = performance.now();
    t = await start(storage);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(messages('warn')).toContain(
      "Storage not ready after 50 ms (timed out after 50 ms). Starting without it: requests are answered by each rule's onStoreError policy, and stored bans and allow/deny lists are not enforced until it is ready. Retrying every 10 ms.",
    );
    expect(down).toEqual([{ reason: 'timed out after 50 ms', atMs: START }]);
    const protection = t.app.get(Rampart);
    expect(protection.storageReady).toBe(false);
    // Not ready: the ban is not known yet, and requests pass uncounted (onStoreError 'allow').
    await from(BANNED).expect(200);
    for (let i = 0; i < 3; i++) {
      const res = await from(CLIENT).expect(200);
      expect(res.headers['ratelimit']).toBeUndefined();
    }

    open();
    await until(() => protection.storageReady && !protection.health.isDown);
    expect(messages('log').some((m) => /^Storage ready after \d+ ms: stored bans and allow\/deny lists are enforced\.$/.test(m))).toBe(true);
    await from(BANNED).expect(403);
    // Requests made while it was not ready were not counted.
    await from(CLIENT).expect(200).expect('ratelimit', /;r=1;/);
    await from(CLIENT).expect(200);
    await from(CLIENT).expect(429);
  });

  it('answers 503 at once under onStoreError deny until the storage is ready', async () => {
    const { storage, open } = gatedStorage();
    t = await start(storage, { onStoreError: 'deny', storeTimeoutMs: 1_000 });
    // Marked down at startup: no request waits for storeTimeoutMs.
    const startedAt = performance.now();
    await from(CLIENT).expect(503).expect('retry-after', '1');
    await from(OTHER).expect(503);
    expect(performance.now() - startedAt).toBeLessThan(500);
    open();
    const protection = t.app.get(Rampart);
    await until(() => protection.storageReady && !protection.health.isDown);
    await from(CLIENT).expect(200);
  });

  it('retries an init() that fails, logging each new reason once, until it succeeds', async () => {
    const { storage, state, open } = gatedStorage();
    state.failWith = new Error('connect ECONNREFUSED 127.0.0.1:27017');
    t = await start(storage);
    expect(messages('warn').filter((m) => m.startsWith('Storage not ready'))).toEqual([
      "Storage not ready after 50 ms (connect ECONNREFUSED 127.0.0.1:27017). Starting without it: requests are answered by each rule's onStoreError policy, and stored bans and allow/deny lists are not enforced until it is ready. Retrying every 10 ms.",
    ]);
    await until(() => state.initCalls >= 4);
    state.failWith = new Error('getaddrinfo ENOTFOUND mongo');
    await until(() => messages('error').length > 0);
    const initCallsAtNewReason = state.initCalls;
    await until(() => state.initCalls >= initCallsAtNewReason + 3);
    expect(messages('error')).toEqual(['Storage still not ready (getaddrinfo ENOTFOUND mongo). Retrying every 10 ms.']);
    state.failWith = undefined;
    open();
    const protection = t.app.get(Rampart);
    await until(() => protection.storageReady && !protection.health.isDown);
    const initCalls = state.initCalls;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(state.initCalls).toBe(initCalls); // not called again once ready
    await from(CLIENT).expect(200).expect('ratelimit', /;r=1;/);
  });

  it('refuses to start with requireStore when the storage is not ready in time, naming the cause', async () => {
    const unreachable = gatedStorage();
    unreachable.state.failWith = new Error('connect ECONNREFUSED 127.0.0.1:27017');
    await expect(start(unreachable.storage, { requireStore: true })).rejects.toThrow(
      'RateLimitModule: the storage was not ready within storeStartupTimeoutMs (50 ms): connect ECONNREFUSED 127.0.0.1:27017. Start the database or fix its connection string, raise storeStartupTimeoutMs, or drop requireStore to start without it.',
    );
    const slow = gatedStorage();
    await expect(start(slow.storage, { requireStore: true })).rejects.toThrow(
      'RateLimitModule: the storage was not ready within storeStartupTimeoutMs (50 ms): timed out after 50 ms.',
    );
    slow.open();
  });

  it('always refuses to start on a StorageSetupError: the database answered, and trying again will not help', async () => {
    const { storage, state } = gatedStorage();
    state.failWith = new StorageSetupError("MongoBanStore: collection 'rampart_bans' has 1 index problem");
    await expect(start(storage)).rejects.toThrow(StorageSetupError);
  });

  it('starts at once when the storage is ready, without a warning', async () => {
    const { storage, open } = gatedStorage();
    open();
    t = await start(storage, { requireStore: true });
    expect(t.app.get(Rampart).storageReady).toBe(true);
    expect(messages('warn')).toEqual([]);
    expect(down).toEqual([]);
  });
});

it('closes a module whose startup failed without leaving its storage open', async () => {
  const { storage, state } = gatedStorage();
  let closed = 0;
  storage.close = async () => void closed++;
  state.failWith = new StorageSetupError('index problem');
  const moduleRef = await Test.createTestingModule(protectionModule({ storage })).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await expect(app.init()).rejects.toThrow('index problem');
  await app.close();
  expect(closed).toBe(1);
});
