/**
 * Alerts in a real Nest app (Express, memory storage, a fake clock): scripted traffic sets the block
 * rate, the test evaluates the thresholds (as the timer would), and a real HTTP receiver checks each
 * webhook as a production receiver would: the signature over the timestamp and raw body, and the
 * timestamp's age.
 */
import { Rampart, type AlertEvent } from '../../lib/index.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { startApp, type TestApp } from '../support/http-app.js';
import { quietNestLogs } from '../support/quiet-logs.js';
import { AlertReceiver, receiverAccepts } from './alert-receiver.js';
import { alertsModule, LIMIT } from './alerts.app.js';

const START = Date.UTC(2030, 0, 1); // a whole multiple of the rule's 60 s windows
const SECOND = 1_000;
const COOLDOWN = 120 * SECOND;
const SECRET = 'a-receiver-secret-of-32-characters';

describe('alerts on Express', () => {
  let clock: FakeClock;
  let receiver: AlertReceiver;
  let t: TestApp;
  let rampart: Rampart;
  let published: AlertEvent[];
  let logs: jest.SpyInstance[];

  beforeEach(async () => {
    logs = quietNestLogs();
    clock = new FakeClock(START);
    receiver = await AlertReceiver.start();
    published = [];
  });
  afterEach(async () => {
    await t?.close();
    await receiver.close();
    for (const spy of logs) spy.mockRestore();
  });

  async function start(alerts: Parameters<typeof alertsModule>[2]): Promise<void> {
    t = await startApp('express', alertsModule(clock, memoryStorage(), alerts, { events: { onAlert: (event) => void published.push(event) } }));
    rampart = t.app.get(Rampart);
  }

  /** `count` requests; expects `refused` of them (the last ones) to be answered 429. */
  async function traffic(count: number, refused: number): Promise<void> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) statuses.push((await t.http().get('/data')).status);
    expect(statuses).toEqual([...Array<number>(count - refused).fill(200), ...Array<number>(refused).fill(429)]);
  }

  /** Evaluates the thresholds now and waits for the deliveries; answers the alerts sent, as `<metric>:<level>`. */
  async function evaluate(): Promise<string[]> {
    const sent = await (rampart.alerts as NonNullable<Rampart['alerts']>).evaluate();
    await rampart.alerts?.dispatcher.settled();
    return sent.map((event) => `${event.alert}:${event.level}`);
  }

  it('sends each alert once per cooldown, signed: the warning, then the critical one, none within the cooldown, again after it', async () => {
    await start({
      windowMs: 60 * SECOND,
      cooldownMs: COOLDOWN,
      minRequests: 20,
      thresholds: { blockRate: { warning: 0.1, critical: 0.4 }, violationsPerMinute: false },
      webhooks: [
        { url: `${receiver.url}/json`, secret: SECRET },
        { url: `${receiver.url}/slack`, format: 'slack', includeKeys: true },
      ],
      retry: { backoffMs: 5 },
    });
    expect(await evaluate()).toEqual([]); // no traffic

    await traffic(20, 20 - LIMIT); // 2 of 20 refused: 10 %
    expect(await evaluate()).toEqual(['blockRate:warning']);
    expect(await evaluate()).toEqual([]);
    expect(receiver.at('/json')).toHaveLength(1);

    clock.advance(30 * SECOND);
    await traffic(10, 10); // 12 of 30 refused: 40 %
    expect(await evaluate()).toEqual(['blockRate:critical']);
    clock.advance(60 * SECOND);
    expect(await evaluate()).toEqual([]); // within both cooldowns
    expect(receiver.at('/json')).toHaveLength(2);

    // The warning's cooldown is over (and the warning level reached again), the critical one's is
    // not: the critical alert supersedes the warning, so nothing is sent.
    clock.set(START + COOLDOWN);
    await traffic(20, 20 - LIMIT);
    expect(await evaluate()).toEqual([]);

    // The critical cooldown is over: sent again.
    clock.set(START + 30 * SECOND + COOLDOWN);
    await traffic(10, 10);
    expect(await evaluate()).toEqual(['blockRate:critical']);
    expect(await evaluate()).toEqual([]);

    const json = receiver.at('/json');
    expect(json).toHaveLength(3);
    const bodies = json.map((request) => JSON.parse(request.body) as AlertEvent);
    expect(bodies).toEqual(published);
    expect(bodies.map(({ level, value, threshold, atMs }) => ({ level, value, threshold, atMs }))).toEqual([
      { level: 'warning', value: 0.1, threshold: 0.1, atMs: START },
      { level: 'critical', value: 0.4, threshold: 0.4, atMs: START + 30 * SECOND },
      { level: 'critical', value: 0.4, threshold: 0.4, atMs: START + 30 * SECOND + COOLDOWN },
    ]);
    expect(bodies[1]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      alert: 'blockRate',
      level: 'critical',
      value: 0.4,
      threshold: 0.4,
      windowMs: 60 * SECOND,
      atMs: START + 30 * SECOND,
      instance: rampart.stats?.instance,
      stats: {
        requests: 30,
        limited: 12,
        blocked: 0,
        banned: 0,
        blockRate: 0.4,
        violations: 12,
        violationsPerMinute: 12,
        instances: 1,
        topRules: [{ rule: 'default', requests: 30, refused: 12 }],
        topKeys: [{ key: '127.0.0.1', refusals: 12 }],
      },
    });
    for (const request of json) {
      const { id, atMs } = JSON.parse(request.body) as AlertEvent;
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['rampart-alert-id']).toBe(id);
      // Signed at the app clock's time of the delivery (the fake clock stands still meanwhile):
      // accepted then and five minutes on, refused six minutes on, with another secret, or with
      // another body.
      expect(receiverAccepts(SECRET, request, atMs)).toBe(true);
      expect(receiverAccepts(SECRET, request, atMs + 5 * 60 * SECOND)).toBe(true);
      expect(receiverAccepts(SECRET, request, atMs + 6 * 60 * SECOND)).toBe(false);
      expect(receiverAccepts(`${SECRET}!`, request, atMs)).toBe(false);
      expect(receiverAccepts(SECRET, { ...request, body: request.body.replace('"blockRate"', '"violationsPerMinute"') }, atMs)).toBe(false);
    }

    // The Slack webhook got the same three alerts, as Slack messages, unsigned (it has no secret).
    const slack = receiver.at('/slack');
    expect(slack).toHaveLength(3);
    expect(slack.every((request) => request.headers['rampart-signature'] === undefined)).toBe(true);
    const message = JSON.parse(slack[1].body) as { text: string; blocks: { type: string }[] };
    expect(message.text).toBe(
      [
        ':rotating_light: *Rampart critical*: block rate 40.0 % over the last 1 min (threshold 40.0 %)',
        '30 requests: 12 limited, 0 blocked, 0 banned; 12.0 violations per minute; 1 instance.',
        'Top rules: `default` 12 refused of 30',
        'Top clients: `127.0.0.1` 12',
      ].join('\n'),
    );
    expect(message.blocks.map((block) => block.type)).toEqual(['section', 'context']);
    expect(JSON.parse(slack[0].body).text).toMatch(/^:warning: \*Rampart warning\*: block rate 10\.0 % over the last 1 min \(threshold 10\.0 %\)\n/);
  });

  it('names no client key where includeKeys is off: by default on Slack webhooks, on request on JSON ones', async () => {
    await start({
      thresholds: { blockRate: { warning: 0.1 }, violationsPerMinute: false },
      webhooks: [
        { url: `${receiver.url}/json`, secret: SECRET, includeKeys: false },
        { url: `${receiver.url}/json-default`, secret: SECRET },
        { url: `${receiver.url}/slack`, format: 'slack' },
      ],
      retry: { backoffMs: 5 },
    });
    await traffic(20, 20 - LIMIT);
    expect(await evaluate()).toEqual(['blockRate:warning']);
    // The event keeps the keys; the JSON webhook gets them by default.
    expect(published[0]?.stats.topKeys).toEqual([{ key: '127.0.0.1', refusals: 2 }]);
    expect(JSON.parse(receiver.at('/json-default')[0]!.body)).toEqual(published[0]);
    const json = receiver.at('/json');
    expect(json).toHaveLength(1);
    expect(JSON.parse(json[0]!.body)).toEqual({ ...published[0], stats: { ...published[0]!.stats, topKeys: [] } });
    expect(receiverAccepts(SECRET, json[0]!, published[0]!.atMs)).toBe(true);
    const slack = receiver.at('/slack');
    expect(slack).toHaveLength(1);
    expect(slack[0]!.body).not.toContain('127.0.0.1');
    expect((JSON.parse(slack[0]!.body) as { text: string }).text).toMatch(/\nTop rules: `default` 2 refused of 20$/);
  });

  it('evaluates the block rate only with minRequests requests in the window; violations per minute always', async () => {
    await start({
      windowMs: 60 * SECOND,
      minRequests: 20,
      thresholds: { blockRate: { warning: 0.05 }, violationsPerMinute: { critical: 3 } },
    });
    await traffic(LIMIT + 1, 1); // 1 of 19 refused: over 5 %, but fewer than 20 requests
    expect(await evaluate()).toEqual([]);
    await traffic(1, 1); // 2 of 20
    expect(await evaluate()).toEqual(['blockRate:warning']);
    await traffic(1, 1); // a third violation within the minute
    expect(await evaluate()).toEqual(['violationsPerMinute:critical']);
    expect(published.map(({ alert, value, stats }) => [alert, value, stats.requests])).toEqual([
      ['blockRate', 0.1, 20],
      ['violationsPerMinute', 3, 21],
    ]);
    expect(receiver.requests).toEqual([]); // no webhooks: events only
  });
});
