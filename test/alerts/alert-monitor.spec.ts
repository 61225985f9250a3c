/**
 * The monitor's timer (Jest fake timers): thresholds are evaluated every intervalMs from start to
 * stop; and the signature helper receivers can use.
 */
import { createHmac } from 'node:crypto';
import { createRampart, verifyAlertSignature, type AlertEvent } from '../../lib/index.js';
import { signAlert } from '../../lib/alerts/alert-signature.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import type { LeaseStore } from '../../lib/storage/lease-store.interface.js';
import type { StatsStore } from '../../lib/storage/stats-store.interface.js';
import { FakeClock } from '../support/fake-clock.js';

const START = Date.UTC(2030, 0, 1);
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('the alert monitor', () => {
  afterEach(() => jest.useRealTimers());

  it('evaluates every intervalMs from start to stop, and publishes each alert once per cooldown', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const clock = new FakeClock(START);
    const published: AlertEvent[] = [];
    const rampart = createRampart({
      clock,
      logger: silent,
      rules: [{ limit: 1, windowMs: 60_000, algorithm: 'fixed-window' }],
      escalation: false,
      events: { onAlert: (event) => void published.push(event) },
      alerts: { intervalMs: 10_000, cooldownMs: 30_000, thresholds: { blockRate: false, violationsPerMinute: { warning: 2 } } },
    });
    await rampart.start();
    for (let i = 0; i < 3; i++) await rampart.decide({ target: 'GET /search', address: '203.0.113.9' }); // 2 violations

    await jest.advanceTimersByTimeAsync(9_999);
    expect(published).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(published.map(({ alert, level, value, atMs }) => ({ alert, level, value, atMs }))).toEqual([
      { alert: 'violationsPerMinute', level: 'warning', value: 2, atMs: START },
    ]);

    clock.advance(20_000);
    await jest.advanceTimersByTimeAsync(20_000); // two evaluations within the cooldown
    expect(published).toHaveLength(1);
    clock.advance(10_000);
    await jest.advanceTimersByTimeAsync(10_000); // the cooldown is over, the violations still in the window
    expect(published.map(({ atMs }) => atMs)).toEqual([START, START + 30_000]);

    await rampart.stop();
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) await rampart.decide({ target: 'GET /search', address: '203.0.113.9' });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(published).toHaveLength(2); // stopped
  });

  it('reads violations per minute over the span counted: the window rounded out to whole buckets', async () => {
    const clock = new FakeClock(START + 5_000);
    const rampart = createRampart({
      clock,
      logger: silent,
      rules: [{ limit: 1, windowMs: 60_000, algorithm: 'fixed-window' }],
      escalation: false,
      alerts: { thresholds: { blockRate: false, violationsPerMinute: { warning: 1 } } },
    });
    for (let i = 0; i < 3; i++) await rampart.decide({ target: 'GET /search', address: '203.0.113.9' }); // 2 violations
    // The last 60 s at START + 5 s count the buckets from START - 60 s: 65 s.
    const [event] = await rampart.alerts!.evaluate();
    expect(event).toMatchObject({ alert: 'violationsPerMinute', value: (2 * 60_000) / 65_000, stats: { violationsPerMinute: (2 * 60_000) / 65_000 } });
    await rampart.stop();
  });

  it('keeps cooldowns per instance while the lease store fails, and skips an evaluation the statistics store fails (each logged once)', async () => {
    const warnings: string[] = [];
    const failing = () => Promise.reject(new Error('connection reset'));
    const leases = { acquire: failing, count: failing, release: failing, renew: failing, releaseHolder: failing } as LeaseStore;
    let statsFail = false;
    const stats: StatsStore = { put: () => Promise.resolve(), list: () => (statsFail ? failing() : Promise.resolve([])) };
    const clock = new FakeClock(START);
    const rampart = createRampart({
      clock,
      logger: { ...silent, warn: (message) => void warnings.push(message) },
      logging: false,
      storage: { ...memoryStorage(), leases, stats },
      rules: [{ limit: 1, windowMs: 60_000, algorithm: 'fixed-window' }],
      escalation: false,
      alerts: { cooldownMs: 30_000, thresholds: { blockRate: false, violationsPerMinute: { warning: 1, critical: 5 } } },
    });
    const monitor = rampart.alerts as NonNullable<typeof rampart.alerts>;
    for (let i = 0; i < 2; i++) await rampart.decide({ target: 'GET /search', address: '203.0.113.9' });

    expect((await monitor.evaluate()).map((event) => event.level)).toEqual(['warning']); // sent: the cooldown is this instance's
    expect(await monitor.evaluate()).toEqual([]); // within it
    expect(warnings).toEqual([
      'Alert cooldowns kept per instance for now: the lease store failed (connection reset), so other instances may send the same alert.',
    ]);

    statsFail = true;
    clock.advance(30_000);
    expect(await monitor.evaluate()).toEqual([]);
    expect(await monitor.evaluate()).toEqual([]);
    expect(warnings.slice(1)).toEqual(['Alerts not evaluated: the statistics could not be read (connection reset). Trying again at the next interval.']);
    statsFail = false;
    expect((await monitor.evaluate()).map((event) => event.level)).toEqual(['warning']);
    await rampart.stop();
  });

  it('verifies signatures: the documented HMAC, the timestamp within the tolerance, any of several v1 values', () => {
    const secret = 'a-receiver-secret-of-32-characters';
    const body = '{"alert":"blockRate"}';
    const t = 1_900_000_000;
    const header = signAlert(secret, body, t);
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`);
    expect(verifyAlertSignature(secret, header, body, t + 300)).toBe(true);
    expect(verifyAlertSignature(secret, header, body, t - 300)).toBe(true);
    expect(verifyAlertSignature(secret, header, body, t + 301)).toBe(false);
    expect(verifyAlertSignature(secret, header, body, t + 30, 10)).toBe(false);
    expect(verifyAlertSignature(secret, header, `${body} `, t)).toBe(false);
    expect(verifyAlertSignature('another-secret-of-32-characters!', header, body, t)).toBe(false);
    expect(verifyAlertSignature(secret, `${signAlert('old-secret-of-16-chars', body, t)},v1=${header.split('v1=')[1]}`, body, t)).toBe(true);
    for (const bad of [undefined, '', `v1=${header.split('v1=')[1]}`, `t=${t}`, `t=${t},v1=zz`, `t=x${t},v1=${header.split('v1=')[1]}`]) {
      expect(verifyAlertSignature(secret, bad, body, t)).toBe(false);
    }
  });
});
