/**
 * The terminus health indicator in a real Nest app: up with the probe's latency on the memory store
 * and on MongoDB; down when the MongoDB server is unreachable and nothing counts in its place;
 * degraded while the in-process fallback counts (reported as terminus's `degraded`, or as up or
 * down on request). The probe never marks the store down or up itself.
 */
import mongoose from 'mongoose';
import { Rampart } from '../../lib/engine/rampart.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, type TestApp } from '../support/http-app.js';
import { quietNestLogs } from '../support/quiet-logs.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';
import { startHealthApp } from './health.app.js';

const STORE_TIMEOUT_MS = 200;

describe.each(ADAPTERS)('terminus health indicator on the memory store, on %s', (adapter) => {
  let t: TestApp;
  // A clock that moves only when told: the probe rule's 1 s window, and a probe's reuse, end only then.
  const clock = new FakeClock();
  beforeAll(async () => {
    t = await startHealthApp(adapter, { clock });
  });
  afterAll(() => t.close());

  it('is up, with the latency of its probe and the storage ready', async () => {
    const res = await t.http().get('/health').expect(200);
    expect(res.body).toEqual({
      status: 'ok',
      info: { rampart: { status: 'up', latencyMs: expect.any(Number), storage: 'ready' } },
      error: {},
      details: { rampart: { status: 'up', latencyMs: expect.any(Number), storage: 'ready' } },
    });
    expect(res.body.info.rampart.latencyMs).toBeGreaterThanOrEqual(0);
    expect(res.body.info.rampart.latencyMs).toBeLessThan(STORE_TIMEOUT_MS);
  });

  it('probes the store with a real count each time (reuseMs: 0), under a key no request uses', async () => {
    const rampart = t.app.get(Rampart);
    const { PROBE_KEY, PROBE_RULE } = await import('../../lib/engine/store-keys.js');
    const remaining = async () => (await rampart.config.store.get(PROBE_KEY, PROBE_RULE, rampart.config.clock.now()))?.remaining ?? PROBE_RULE.limit;
    const before = await remaining();
    // Without reuse (see the next test for the default).
    await t.http().get('/health?reuseMs=0').expect(200);
    await t.http().get('/health?reuseMs=0').expect(200);
    expect(await remaining()).toBe(before - 2);
  });

  it('shares one probe among concurrent checks, and reuses its result for reuseMs (1 s by default; 0: none)', async () => {
    const rampart = t.app.get(Rampart);
    const consume = jest.spyOn(rampart.config.store, 'consume');
    try {
      clock.advance(1_000);
      const answers = await Promise.all(Array.from({ length: 20 }, () => t.http().get('/health')));
      expect(answers.map((res) => res.status)).toEqual(Array(20).fill(200));
      expect(consume).toHaveBeenCalledTimes(1);
      clock.advance(999);
      await t.http().get('/health').expect(200);
      expect(consume).toHaveBeenCalledTimes(1); // still reused
      clock.advance(1);
      await t.http().get('/health').expect(200);
      expect(consume).toHaveBeenCalledTimes(2);
      await t.http().get('/health?reuseMs=0').expect(200);
      await t.http().get('/health?reuseMs=0').expect(200);
      expect(consume).toHaveBeenCalledTimes(4);
    } finally {
      consume.mockRestore();
    }
  });
});

describeMongo('terminus health indicator on MongoDB', () => {
  const dbName = uniqueDbName('terminus_health');
  let proxy: TcpProxy;
  let logs: jest.SpyInstance[];

  beforeAll(async () => {
    const { hostname, port } = new URL(mongoUrl());
    proxy = await TcpProxy.start({ host: hostname, port: Number(port) });
    logs = quietNestLogs();
  });
  afterAll(async () => {
    await proxy.restore();
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
    for (const spy of logs) spy.mockRestore();
  });

  /** An app whose MongoDB storage reaches the server through the proxy. */
  function start(storeFallback: boolean): Promise<TestApp> {
    const storage = mongoStorage({
      uri: `mongodb://127.0.0.1:${proxy.port}`,
      connectOptions: { dbName, directConnection: true, serverSelectionTimeoutMS: 1_000, heartbeatFrequencyMS: 500 },
      sweepIntervalMs: false,
    });
    return startHealthApp('express', { storage, storeTimeoutMs: STORE_TIMEOUT_MS, storeProbeIntervalMs: 50, storeFallback });
  }

  it('is up with the latency of a round trip; down (503) when the server is unreachable and nothing counts instead; up again when it is back', async () => {
    const t = await start(false);
    try {
      const up = await t.http().get('/health?reuseMs=0').expect(200);
      expect(up.body.status).toBe('ok');
      expect(up.body.info.rampart).toEqual({ status: 'up', latencyMs: expect.any(Number), storage: 'ready' });
      expect(up.body.info.rampart.latencyMs).toBeGreaterThan(0);

      await proxy.cut();
      const startedAt = performance.now();
      const down = await t.http().get('/health?reuseMs=0').expect(503);
      // Bounded by storeTimeoutMs, not by the driver's own timeouts.
      expect(performance.now() - startedAt).toBeLessThan(STORE_TIMEOUT_MS + 500);
      expect(down.body.status).toBe('error');
      // A cut connection fails at once or times out, depending on where the driver was; either way
      // the body names no host (the driver's own message is left out).
      const timedOut = `timed out after ${STORE_TIMEOUT_MS} ms`;
      expect(down.body.error.rampart).toEqual({
        status: 'down',
        latencyMs: expect.any(Number),
        storage: 'ready',
        error: expect.stringMatching(new RegExp(`^(${timedOut}|store error)$`)),
      });
      if (down.body.error.rampart.error === timedOut) expect(down.body.error.rampart.latencyMs).toBeGreaterThanOrEqual(STORE_TIMEOUT_MS - 1);
      // The probe alone did not mark the store down: only requests and the outage probe do.
      expect(t.app.get(Rampart).health.isDown).toBe(false);

      await proxy.restore();
      const again = await pollHealth(t, 200);
      expect(again.body.info.rampart.status).toBe('up');
    } finally {
      await proxy.restore();
      await t.close();
    }
  });

  it('is degraded while the store is down and the fallback counts: 200 with status degraded, or up or down on request', async () => {
    const t = await start(true);
    const rampart = t.app.get(Rampart);
    try {
      await t.http().get('/health?reuseMs=0').expect(200);
      await proxy.cut();
      // Requests mark the store down; from then on the fallback counts them. (The first may still
      // have been counted by the store before the cut reached the driver: the fallback starts empty.)
      for (let i = 0; i < 3; i++) await t.http().get('/limited');
      await until(() => rampart.health.isDown, 3_000);
      const degradedData = { degraded: true, fallback: 'counting', latencyMs: expect.any(Number), storage: 'ready', error: expect.any(String) };
      const res = await t.http().get('/health?reuseMs=0').expect(200);
      expect(res.body).toEqual({
        status: 'degraded',
        info: { rampart: { status: 'degraded', ...degradedData } },
        error: {},
        details: { rampart: { status: 'degraded', ...degradedData } },
      });
      // The fallback has counted at least the limit (2 a minute) by now: refused.
      expect((await t.http().get('/limited')).status).toBe(429);

      const asUp = await t.http().get('/health?whenDegraded=up&reuseMs=0').expect(200);
      expect(asUp.body.status).toBe('ok');
      expect(asUp.body.info.rampart).toEqual({ status: 'up', ...degradedData });
      const asDown = await t.http().get('/health?whenDegraded=down&reuseMs=0').expect(503);
      expect(asDown.body.error.rampart).toEqual({ status: 'down', ...degradedData });

      await proxy.restore();
      await until(() => !rampart.health.isDown, 5_000);
      const back = await t.http().get('/health?reuseMs=0').expect(200);
      expect(back.body.status).toBe('ok');
      expect(back.body.info.rampart).toEqual({ status: 'up', latencyMs: expect.any(Number), storage: 'ready' });
    } finally {
      await proxy.restore();
      await t.close();
    }
  });
});

/** GET /health until it answers `status` (the driver reconnects in the background), within 5 s. */
async function pollHealth(t: TestApp, status: number) {
  const deadline = performance.now() + 5_000;
  for (;;) {
    const res = await t.http().get('/health?reuseMs=0');
    if (res.status === status || performance.now() > deadline) return res;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
