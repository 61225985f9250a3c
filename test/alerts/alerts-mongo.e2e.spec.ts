/**
 * Two app instances on one MongoDB database (each through its own connection, one clock): both are
 * over the critical block rate, both evaluate at the same moment, and the receiver gets one alert
 * between them per cooldown, since the first to take the alert's lease sends it.
 */
import mongoose from 'mongoose';
import { Rampart, type AlertEvent } from '../../lib/index.js';
import { mongoStorage } from '../../lib/storage/mongo/index.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { startApp, type TestApp } from '../support/http-app.js';
import { quietNestLogs } from '../support/quiet-logs.js';
import { AlertReceiver, receiverAccepts } from './alert-receiver.js';
import { alertsModule, LIMIT } from './alerts.app.js';

const START = Date.UTC(2030, 0, 1);
const COOLDOWN = 120_000;
const SECRET = 'a-receiver-secret-of-32-characters';

describeMongo('alerts of two instances sharing MongoDB', () => {
  const dbName = uniqueDbName('alerts');
  const clock = new FakeClock(START);
  let receiver: AlertReceiver;
  let instances: TestApp[];
  let logs: jest.SpyInstance[];

  beforeAll(async () => {
    logs = quietNestLogs();
    receiver = await AlertReceiver.start();
    instances = await Promise.all(
      [0, 1].map(async () => {
        const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
        const storage = mongoStorage({ connection, sweepIntervalMs: false });
        const alerts = {
          cooldownMs: COOLDOWN,
          thresholds: { blockRate: { critical: 0.1 }, violationsPerMinute: false as const },
          webhooks: [{ url: `${receiver.url}/json`, secret: SECRET }],
          retry: { backoffMs: 5 },
        };
        const t = await startApp('express', alertsModule(clock, storage, alerts));
        const close = t.close;
        return { ...t, close: () => close().then(() => connection.close()) };
      }),
    );
  });
  afterAll(async () => {
    await Promise.all(instances.map((t) => t.close()));
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
    await receiver.close();
    for (const spy of logs) spy.mockRestore();
  });

  const rampart = (t: TestApp) => t.app.get(Rampart);

  /** 20 requests on each instance: the limit is shared, so the first instance admits 18, the second none. */
  async function traffic(): Promise<void> {
    const statuses = async (t: TestApp) => {
      const answers: number[] = [];
      for (let i = 0; i < 20; i++) answers.push((await t.http().get('/data')).status);
      return answers.filter((status) => status === 429).length;
    };
    expect(await statuses(instances[0])).toBe(20 - LIMIT);
    expect(await statuses(instances[1])).toBe(20);
  }

  /** Both instances evaluate at once; answers the alerts each sent. */
  async function evaluateBoth(): Promise<AlertEvent[][]> {
    const sent = await Promise.all(instances.map((t) => rampart(t).alerts?.evaluate() ?? Promise.resolve([])));
    await Promise.all(instances.map((t) => rampart(t).alerts?.dispatcher.settled()));
    return sent;
  }

  it('sends one alert between them per cooldown', async () => {
    await traffic();
    const first = await evaluateBoth();
    expect(first.flat().map((event) => `${event.alert}:${event.level}`)).toEqual(['blockRate:critical']);
    expect(receiver.requests).toHaveLength(1);
    expect(await evaluateBoth()).toEqual([[], []]);

    clock.advance(COOLDOWN - 1);
    expect(await evaluateBoth()).toEqual([[], []]);
    expect(receiver.requests).toHaveLength(1);

    // The cooldown is over (and the limit's window too): new traffic, one more alert.
    clock.advance(1);
    await traffic();
    expect((await evaluateBoth()).flat()).toHaveLength(1);
    expect(await evaluateBoth()).toEqual([[], []]);

    expect(receiver.requests).toHaveLength(2);
    const bodies = receiver.requests.map((request) => JSON.parse(request.body) as AlertEvent);
    const senders = instances.map((t) => rampart(t).stats?.instance);
    for (const [i, body] of bodies.entries()) {
      expect(senders).toContain(body.instance);
      expect(body).toMatchObject({ alert: 'blockRate', level: 'critical', atMs: START + i * COOLDOWN });
      expect(receiverAccepts(SECRET, receiver.requests[i], body.atMs)).toBe(true);
    }
  });
});
