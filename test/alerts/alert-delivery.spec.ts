/**
 * Delivery of alerts to a real local HTTP receiver: retries with backoff after 5xx answers and
 * timeouts, bounded by `retry.attempts`; no retry of a request the receiver refuses (4xx); the
 * bounded queue; shutdown. Alerts are handed to the dispatcher directly (evaluation is tested in
 * alerts.e2e.spec.ts).
 */
import { randomUUID } from 'node:crypto';
import { createRampart, verifyAlertSignature, type AlertEvent, type AlertOptions, type Rampart } from '../../lib/index.js';
import type { AlertDispatcher } from '../../lib/alerts/alert-dispatcher.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';
import { AlertReceiver } from './alert-receiver.js';

const NOW = Date.UTC(2030, 0, 1);
const SECRET = 'a-receiver-secret-of-32-characters';

/** An alert as evaluation would make it. */
function alert(level: AlertEvent['level'] = 'critical'): AlertEvent {
  return {
    id: randomUUID(),
    alert: 'blockRate',
    level,
    value: 0.5,
    threshold: 0.2,
    windowMs: 60_000,
    atMs: NOW,
    instance: 'host:1:abcd',
    stats: {
      requests: 40,
      limited: 20,
      blocked: 0,
      banned: 0,
      blockRate: 0.5,
      violations: 20,
      violationsPerMinute: 20,
      instances: 1,
      topRules: [{ rule: 'default', requests: 40, refused: 20 }],
      topKeys: [{ key: '10.0.0.1', refusals: 20 }],
    },
  };
}

describe('alert delivery', () => {
  let receiver: AlertReceiver;
  let rampart: Rampart;
  let dispatcher: AlertDispatcher;
  let logs: { level: string; message: string }[];

  beforeEach(async () => {
    receiver = await AlertReceiver.start();
    logs = [];
  });
  afterEach(async () => {
    await rampart.stop();
    await receiver.close();
  });

  function start(options: Partial<AlertOptions> = {}, retry: AlertOptions['retry'] = {}): void {
    const record = (level: string) => (message: string) => void logs.push({ level, message });
    rampart = createRampart({
      clock: new FakeClock(NOW),
      logger: { log: record('log'), warn: record('warn'), error: record('error') },
      alerts: {
        webhooks: [{ url: `${receiver.url}/hook`, secret: SECRET }],
        retry: { backoffMs: 5, maxBackoffMs: 40, timeoutMs: 1_000, ...retry },
        ...options,
      },
    });
    dispatcher = (rampart.alerts as NonNullable<Rampart['alerts']>).dispatcher;
  }

  const errors = () => logs.filter((line) => line.level === 'error').map((line) => line.message);

  it('retries after 500s and a timeout, with doubling pauses, until a 2xx; each attempt signed, with the same alert id', async () => {
    start({}, { attempts: 5, backoffMs: 20, maxBackoffMs: 1_000, timeoutMs: 300 });
    receiver.reply(500, 503, 'hang', 200);
    const sent = alert();
    dispatcher.send(sent);
    await dispatcher.settled();

    expect(receiver.requests).toHaveLength(4);
    for (const request of receiver.requests) {
      expect(request.headers['rampart-alert-id']).toBe(sent.id);
      expect(JSON.parse(request.body)).toEqual(sent);
      expect(verifyAlertSignature(SECRET, request.headers['rampart-signature'] as string, request.body, NOW / 1000)).toBe(true);
    }
    // Pauses of at least 20, 40 and 80 ms, the third after a 300 ms timeout (which runs from the
    // request's start, a little before the receiver has it).
    const at = receiver.requests.map((request) => request.atMs);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(19);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(39);
    expect(at[3] - at[2]).toBeGreaterThanOrEqual(300 + 80 - 30);
    expect(errors()).toEqual([]);
  });

  it('gives up after retry.attempts attempts and logs the reason once', async () => {
    start({}, { attempts: 3 });
    receiver.reply(500, 500, 500, 500, 500);
    dispatcher.send(alert());
    await dispatcher.settled();
    expect(receiver.requests).toHaveLength(3);
    expect(errors()).toEqual([`Alert blockRate (critical) not delivered to alerts.webhooks[0] (${receiver.url}) after 3 attempts: answered 500.`]);
  });

  it('retries 408 and 429, and a receiver that cannot be reached', async () => {
    start({}, { attempts: 3 });
    receiver.reply(408, 429, 204);
    dispatcher.send(alert());
    await dispatcher.settled();
    expect(receiver.requests).toHaveLength(3);

    const closed = await AlertReceiver.start();
    const url = closed.url;
    await closed.close();
    await rampart.stop();
    rampart = createRampart({
      logger: { log: () => undefined, warn: () => undefined, error: (message) => void logs.push({ level: 'error', message }) },
      alerts: { webhooks: [{ url, format: 'slack' }], retry: { attempts: 2, backoffMs: 5 } },
    });
    dispatcher = (rampart.alerts as NonNullable<Rampart['alerts']>).dispatcher;
    dispatcher.send(alert());
    await dispatcher.settled();
    expect(errors()).toEqual([
      expect.stringMatching(/^Alert blockRate \(critical\) not delivered to .* after 2 attempts: the request failed \(.*ECONNREFUSED.*\)\.$/),
    ]);
  });

  it('does not retry a 400', async () => {
    start({}, { attempts: 5 });
    receiver.reply(400);
    dispatcher.send(alert());
    await dispatcher.settled();
    expect(receiver.requests).toHaveLength(1);
    expect(errors()).toEqual([
      `Alert blockRate (critical) not delivered to alerts.webhooks[0] (${receiver.url}) after 1 attempt: answered 400, which is not retried (an answer below 500 other than 2xx, 408 and 429 refuses the request itself: check the URL, secret and headers).`,
    ]);
  });

  it('keeps at most maxQueued alerts waiting: the oldest is dropped, and logged', async () => {
    start({ maxQueued: 2 });
    receiver.reply('hold');
    const [first, second, third, fourth] = [alert('warning'), alert('critical'), alert('warning'), alert('critical')];
    dispatcher.send(first); // in flight, held by the receiver
    await until(() => receiver.requests.length === 1);
    dispatcher.send(second);
    dispatcher.send(third);
    dispatcher.send(fourth); // the queue is full: the second is dropped
    expect(logs).toEqual([
      {
        level: 'warn',
        message: `Alert blockRate (critical) dropped for alerts.webhooks[0] (${receiver.url}): 2 alerts were already waiting for it (alerts.maxQueued). The webhook is slower than alerts arrive, or down.`,
      },
    ]);
    receiver.release(204);
    await dispatcher.settled();
    expect(receiver.requests.map((request) => request.headers['rampart-alert-id'])).toEqual([first.id, third.id, fourth.id]);
  });

  it('sends the headers given, and at shutdown gives what is queued at most timeoutMs, without waiting for a pause between attempts', async () => {
    start(
      { webhooks: [{ url: `${receiver.url}/hook`, secret: SECRET, headers: { Authorization: 'Bearer t0ken' } }] },
      { timeoutMs: 200, backoffMs: 10_000, maxBackoffMs: 10_000 },
    );
    receiver.reply('hang');
    dispatcher.send(alert());
    dispatcher.send(alert());
    await until(() => receiver.requests.length === 1);
    expect(receiver.requests[0].headers['authorization']).toBe('Bearer t0ken');
    const stopping = performance.now();
    await rampart.stop();
    expect(performance.now() - stopping).toBeLessThan(5_000); // not the 10 s pause
    expect(logs.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      '2 alerts not delivered before shutdown (still queued or being retried).',
    ]);
    dispatcher.send(alert()); // after shutdown: ignored
    await dispatcher.settled();
    expect(receiver.requests).toHaveLength(1);
  });
});
