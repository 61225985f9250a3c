/**
 * HTTP concurrency limits on a shared storage: two instances of the app on one MongoDB (or Redis)
 * hold one pool of slots per client, and the slots of an instance killed with SIGKILL (a process of
 * its own) come free once its leases lapse, leaseMs later on the app's clock.
 */
import { join } from 'node:path';
import { Rampart } from '../../lib/engine/rampart.js';
import type { RateLimitModuleOptions } from '../../lib/rate-limit-options.interface.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { redisStorage } from '../../lib/storage/redis/redis-storage.js';
import { describeMongo, mongoConnections, mongoUrl } from '../harness/mongo.js';
import { describeRedis, redisClients, redisUrl } from '../harness/redis.js';
import { startChildApp } from '../support/child-app.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, type AdapterName } from '../support/http-app.js';
import { until, untilValue } from '../support/until.js';
import { sendTo, startConcurrencyApp, type ConcurrencyApp } from './concurrency.app.js';

const SLOW = 'concurrency:JobsController.slow:127.0.0.1';
const LEASE_MS = 60_000;

/** Instances of the app sharing one storage, on one clock a week after the last test's (they share the data). */
function sharedInstances(storage: (clock: FakeClock) => RateLimitModuleOptions['storage']) {
  const apps: ConcurrencyApp[] = [];
  let weeks = 0;
  afterEach(async () => {
    for (const app of apps.splice(0)) {
      while (app.jobs.gate.waiting > 0) app.jobs.gate.release();
      await app.close();
    }
  });
  return async (adapter: AdapterName, count: number) => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1) + ++weeks * 7 * 24 * 3_600_000);
    for (let i = 0; i < count; i++) apps.push(await startConcurrencyApp(adapter, { clock, storage: storage(clock), leaseMs: LEASE_MS }));
    return { clock, instances: apps.slice(-count) };
  };
}

/** Two instances: one request held on each; a third is refused by either; an answer on one frees a slot for the other. */
async function sharesSlots([a, b]: ConcurrencyApp[]): Promise<void> {
  const first = a.send('/slow');
  await until(() => a.jobs.gate.started === 1);
  const second = b.send('/slow');
  await until(() => b.jobs.gate.started === 1);
  const leases = a.app.get(Rampart).leases;
  expect(await leases.count(SLOW)).toBe(2);
  for (const instance of [a, b]) expect(await instance.get('/slow')).toMatchObject({ status: 429, body: { rule: 'concurrency', limit: 2 } });
  a.jobs.gate.release();
  expect((await first.answer).status).toBe(200);
  await untilValue(() => leases.count(SLOW), 1);
  const third = b.send('/slow');
  await until(() => b.jobs.gate.started === 2);
  expect(await leases.count(SLOW)).toBe(2);
  b.jobs.gate.release();
  b.jobs.gate.release();
  expect([(await second.answer).status, (await third.answer).status]).toEqual([200, 200]);
  await untilValue(() => leases.count(SLOW), 0);
}

/**
 * An instance of its own process (on `adapter`, with `storage` naming the storage it shares with
 * `survivor`) holds both slots of the client, and is killed with SIGKILL: the survivor refuses the
 * client until the dead instance's leases lapse, leaseMs later on the clock, then admits it again.
 */
async function killedInstanceLapses(adapter: AdapterName, survivor: ConcurrencyApp, clock: FakeClock, storage: Record<string, string>): Promise<void> {
  const leases = survivor.app.get(Rampart).leases;
  const { child, port, exited } = await startChildApp(join(__dirname, '..', 'support', 'slot-holder.mjs'), {
    RAMPART_DIST: join(__dirname, '..', '..', 'dist'),
    TRANSPORT: adapter,
    CLOCK_MS: String(clock.now()),
    LEASE_MS: String(LEASE_MS),
    ...storage,
  });
  try {
    const held = [sendTo(port, '/slow'), sendTo(port, '/slow')];
    await untilValue(() => leases.count(SLOW), 2);
    child.kill('SIGKILL');
    await exited;
    // The killed instance's connections are reset: its requests never get an answer.
    await Promise.all(held.map(({ answer }) => expect(answer).rejects.toThrow()));
    expect(await leases.count(SLOW)).toBe(2);
    expect((await survivor.get('/slow')).status).toBe(429);
    clock.advance(LEASE_MS - 1);
    expect((await survivor.get('/slow')).status).toBe(429);
    clock.advance(1);
    expect(await leases.count(SLOW)).toBe(0);
    const admitted = [survivor.send('/slow')];
    await until(() => survivor.jobs.gate.started === 1);
    admitted.push(survivor.send('/slow'));
    await until(() => survivor.jobs.gate.started === 2);
    expect((await survivor.get('/slow')).status).toBe(429);
    survivor.jobs.gate.release();
    survivor.jobs.gate.release();
    for (const { answer } of admitted) expect((await answer).status).toBe(200);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

describeMongo('HTTP concurrency limits on the Mongo storage', () => {
  const { dbName } = mongoConnections('http_concurrency');
  const start = sharedInstances((clock) => mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock }));

  it.each(ADAPTERS)('shares the slots of a client among two instances on %s', async (adapter) => {
    const { instances } = await start(adapter, 2);
    await sharesSlots(instances);
  });

  it.each(ADAPTERS)(
    "frees the slots of a %s instance killed with SIGKILL once its leases lapse, leaseMs later on the app's clock",
    async (adapter) => {
      const { clock, instances } = await start(adapter, 1);
      await killedInstanceLapses(adapter, instances[0], clock, { DB_NAME: dbName });
    },
    // It starts a Node process of its own.
    30_000,
  );
});

describeRedis('HTTP concurrency limits on the Redis storage', () => {
  const redis = redisClients('http-concurrency');
  const start = sharedInstances(() => redisStorage({ client: redis.connect(), prefix: redis.prefix }));

  it.each(ADAPTERS)('shares the slots of a client among two instances on %s', async (adapter) => {
    const { instances } = await start(adapter, 2);
    await sharesSlots(instances);
  });

  // On Express only: the adapters' part is the same as on MongoDB, where both are shown.
  it(
    "frees the slots of an instance killed with SIGKILL once its leases lapse, leaseMs later on the app's clock",
    async () => {
      const { clock, instances } = await start('express', 1);
      await killedInstanceLapses('express', instances[0], clock, { REDIS_URL: redisUrl(), REDIS_PREFIX: redis.prefix });
    },
    // It starts a Node process of its own.
    30_000,
  );
});
