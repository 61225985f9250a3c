import { RateLimitConfigurationError, type RateLimitModuleOptions } from '../../lib/index.js';
import { resolveRampartConfig } from '../../lib/engine/rampart-config.js';
import { problemsOf } from '../support/config-problems.js';

const SECRET = 'a-receiver-secret-of-32-characters';
const alerts = (value: unknown): RateLimitModuleOptions => ({ alerts: value as RateLimitModuleOptions['alerts'] });

describe('the alerts option', () => {
  it('fills in the defaults', () => {
    const config = resolveRampartConfig({ alerts: { webhooks: [{ url: 'https://ops.example.com/rampart', secret: SECRET }] } });
    expect(config.alerts).toEqual({
      windowMs: 60_000,
      intervalMs: 10_000,
      minRequests: 20,
      cooldownMs: 300_000,
      thresholds: {
        blockRate: { warning: 0.05, critical: 0.2 },
        violationsPerMinute: { warning: 50, critical: 200 },
        ddosScore: { warning: 0.5, critical: 0.8 },
      },
      webhooks: [{ url: 'https://ops.example.com/rampart', format: 'json', secret: SECRET, headers: {}, includeKeys: true }],
      retry: { attempts: 5, backoffMs: 1_000, maxBackoffMs: 30_000, timeoutMs: 5_000 },
      maxQueued: 100,
    });
    expect(resolveRampartConfig({}).alerts).toBe(false);
    expect(resolveRampartConfig({ alerts: false }).alerts).toBe(false);
    // A metric given replaces its defaults; false leaves it unwatched.
    expect(resolveRampartConfig({ alerts: { thresholds: { blockRate: { critical: 0.3 }, violationsPerMinute: false } } }).alerts).toMatchObject({
      thresholds: { blockRate: { critical: 0.3 }, violationsPerMinute: false },
      webhooks: [],
    });
  });

  it('is a startup error without the statistics', () => {
    expect(problemsOf({ stats: false, alerts: {} })).toEqual([
      'alerts read the statistics, which stats: false turns off. Remove stats: false (or give stats options instead), or remove alerts.',
    ]);
    expect(() => resolveRampartConfig({ stats: false, alerts: {} })).toThrow(RateLimitConfigurationError);
  });

  it('lists every problem, each saying how to fix it', () => {
    expect(
      problemsOf(
        alerts({
          windowMs: 3_600_000,
          intervalMs: 0,
          minRequests: -1,
          cooldownMs: 1.5,
          maxQueued: 'many',
          every: 5,
          thresholds: { blockRate: { warning: 5, critical: 20 }, violationsPerMinute: { warning: 200, critical: 50 }, latencyMs: { warning: 1 } },
          retry: { attempts: 50, backoffMs: 2_000, maxBackoffMs: 1_000, timeoutMs: 0, jitter: true },
        }),
      ),
    ).toEqual([
      'alerts.every is not an option; the options are windowMs, intervalMs, minRequests, cooldownMs, thresholds, webhooks, retry, maxQueued.',
      'alerts.intervalMs must be a positive integer, got 0.',
      'alerts.cooldownMs must be a positive integer, got 1.5.',
      'alerts.maxQueued must be a positive integer, got "many".',
      'alerts.minRequests must be an integer of 0 or more, got -1.',
      'alerts.windowMs (3600000) is longer than stats.retentionMs (900000): the statistics of such a window are not kept. Shorten alerts.windowMs or raise stats.retentionMs.',
      'alerts.thresholds.latencyMs is not an option; the options are blockRate, violationsPerMinute, ddosScore.',
      'alerts.thresholds.blockRate.warning must be a share of requests above 0 and at most 1 (0.05 is 5 %), got 5.',
      'alerts.thresholds.blockRate.critical must be a share of requests above 0 and at most 1 (0.05 is 5 %), got 20.',
      'alerts.thresholds.violationsPerMinute.warning (200) must be below alerts.thresholds.violationsPerMinute.critical (50): the warning comes first. Lower the warning or raise the critical level.',
      'alerts.retry.jitter is not an option; the options are attempts, backoffMs, maxBackoffMs, timeoutMs.',
      'alerts.retry.attempts must be a whole number from 1 to 20 (the first attempt included), got 50.',
      'alerts.retry.timeoutMs must be a positive integer, got 0.',
    ]);
    expect(problemsOf(alerts({ retry: { backoffMs: 2_000, maxBackoffMs: 1_000 } }))).toEqual([
      'alerts.retry.maxBackoffMs (1000) is shorter than alerts.retry.backoffMs (2000). Raise maxBackoffMs or lower backoffMs.',
    ]);
    expect(problemsOf(alerts({ thresholds: { blockRate: {}, violationsPerMinute: 5 } }))).toEqual([
      'alerts.thresholds.blockRate sets neither warning nor critical: give one of them, or false to leave this metric unwatched.',
      'alerts.thresholds.violationsPerMinute must be { warning, critical } (either may be left out) or false (not watched), got 5.',
    ]);
    expect(problemsOf(alerts(true))).toEqual([
      'alerts must be an object of alert options, such as { thresholds: { blockRate: { warning: 0.05, critical: 0.2 } }, webhooks: [{ url, secret }] }, or false; got true.',
    ]);
  });

  it('checks each webhook: an http(s) URL, a format, a secret for JSON, headers of its own', () => {
    expect(
      problemsOf(
        alerts({
          webhooks: [
            { url: 'ftp://ops.example.com/rampart', secret: SECRET },
            { url: 'https://ops.example.com/rampart' },
            { url: 'not a url', format: 'xml', secret: 'short' },
            {
              url: 'https://hooks.slack.com/services/T0/B0/X',
              format: 'slack',
              headers: { 'Content-Type': 'text/plain', 'Rampart-Signature': 'x', 'X-Team': 1 },
            },
            'https://ops.example.com',
            { url: 'https://ops.example.com', secret: SECRET, channel: '#alerts' },
            { url: 'https://rampart:pa55@ops.example.com/hook', secret: SECRET },
            { url: 'https://ops.example.com', secret: SECRET, includeKeys: 'no' },
          ],
        }),
      ),
    ).toEqual([
      'alerts.webhooks[0].url must be an absolute http: or https: URL, such as https://ops.example.com/rampart, got a ftp: URL.',
      "alerts.webhooks[1].secret is required for a 'json' webhook: it signs each alert (Rampart-Signature), so that the receiver can reject posts that are not Rampart's. Give a random string of at least 16 characters (e.g. the output of openssl rand -hex 32).",
      'alerts.webhooks[2].url must be an absolute http: or https: URL, such as https://ops.example.com/rampart, got a string that is not a URL.',
      "alerts.webhooks[2].format must be 'json' (signed JSON for a receiver of your own) or 'slack' (a Slack-compatible incoming webhook), got \"xml\".",
      'alerts.webhooks[2].secret must be a string of at least 16 characters (e.g. the output of openssl rand -hex 32), got 5 characters.',
      'alerts.webhooks[3].headers sets Content-Type, which Rampart sets itself (Content-Type, Content-Length, Host, User-Agent and Rampart-*). Remove it.',
      'alerts.webhooks[3].headers sets Rampart-Signature, which Rampart sets itself (Content-Type, Content-Length, Host, User-Agent and Rampart-*). Remove it.',
      'alerts.webhooks[3].headers.X-Team must be a string, got 1.',
      "alerts.webhooks[4] must be an object such as { url: 'https://ops.example.com/rampart', secret: '<random>' }, got \"https://ops.example.com\".",
      'alerts.webhooks[5].channel is not an option; the options are url, format, secret, headers, includeKeys.',
      "alerts.webhooks[6].url carries a user name or password, which fetch does not send from a URL. Remove them from the URL and give them in headers, e.g. { Authorization: 'Basic <base64 of user:password>' }.",
      'alerts.webhooks[7].includeKeys must be true or false, got "no".',
    ]);
    expect(problemsOf(alerts({ webhooks: { url: 'https://ops.example.com' } }))).toEqual([
      'alerts.webhooks must be an array of { url, secret?, format?, headers?, includeKeys? }, got an object.',
    ]);
  });

  it('takes onAlert among the events', () => {
    expect(problemsOf({ events: { onAlert: 'log' as unknown as () => void } })).toEqual(['events.onAlert must be a function, got "log".']);
  });
});
