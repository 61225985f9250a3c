/**
 * The objects of options (`stats`, `logging`, `storeBreaker`, `alerts`) share one checker: a field
 * set to undefined takes its default everywhere; what is no object, unknown fields and bad values
 * are startup problems saying how to fix them. And `stats`' combinations of fields are checked.
 */
import type { RateLimitModuleOptions } from '../../lib/index.js';
import { resolveRampartConfig } from '../../lib/engine/rampart-config.js';
import { DEFAULT_LOGGING } from '../../lib/observability/logging-config.js';
import { DEFAULT_STATS, statsBucketBytes, SUMMARY_BUDGET_BYTES } from '../../lib/observability/observability-config.js';
import { DEFAULT_STORE_BREAKER } from '../../lib/protection/store-breaker.js';
import { problemsOf } from '../support/config-problems.js';

const SECRET = 'a-receiver-secret-of-32-characters';
const options = (value: Record<string, unknown>) => value as RateLimitModuleOptions;

describe('objects of options', () => {
  it('take the default for a field set to undefined, in every option', () => {
    const config = resolveRampartConfig(
      options({
        stats: { bucketMs: undefined, topKeys: 5 },
        logging: { intervalMs: undefined, ban: 'error' },
        storeBreaker: { windowMs: undefined, failures: 9 },
        alerts: { windowMs: undefined, webhooks: [{ url: 'https://ops.example.com/rampart', secret: SECRET }], retry: { attempts: undefined } },
      }),
    );
    expect(config.stats).toEqual({ ...DEFAULT_STATS, topKeys: 5 });
    expect(config.logging).toEqual({ ...DEFAULT_LOGGING, ban: 'error' });
    expect(config.storeBreaker).toEqual({ ...DEFAULT_STORE_BREAKER, failures: 9 });
    expect(config.alerts).toMatchObject({ windowMs: 60_000, retry: { attempts: 5 } });
  });

  it('refuse null, as any value that is not one the field takes', () => {
    expect(
      problemsOf(options({ stats: { bucketMs: null }, logging: { maxKeys: null }, storeBreaker: { clients: null }, alerts: { cooldownMs: null } })),
    ).toEqual([
      'storeBreaker.clients must be a positive integer, got null.',
      'stats.bucketMs must be a positive integer, got null.',
      'logging.maxKeys must be a positive integer, got null.',
      'alerts.cooldownMs must be a positive integer, got null.',
    ]);
  });

  it('say the same of an unknown field in every option', () => {
    expect(
      problemsOf(options({ stats: { buckets: 1 }, logging: { level: 'warn' }, storeBreaker: { key: 1 }, alerts: { every: 5, retry: { jitter: true } } })),
    ).toEqual([
      'storeBreaker.key is not an option; the options are windowMs, failures, clients.',
      'stats.buckets is not an option; the options are bucketMs, retentionMs, reportIntervalMs, nearLimitRatio, topKeys, maxRuleLabels, maxProtocolLabels.',
      'logging.level is not an option; the options are violation, block, ban, unban, intervalMs, maxKeys.',
      'alerts.every is not an option; the options are windowMs, intervalMs, minRequests, cooldownMs, thresholds, webhooks, retry, maxQueued.',
      'alerts.retry.jitter is not an option; the options are attempts, backoffMs, maxBackoffMs, timeoutMs.',
    ]);
  });
});

describe('the stats option', () => {
  it('reports what is no object, bad fields and a retention shorter than a bucket', () => {
    expect(problemsOf(options({ stats: 'on' }))).toEqual(['stats must be an object of statistics options or false, got "on".']);
    expect(problemsOf(options({ stats: { bucketMs: 0, nearLimitRatio: 1.5 } }))).toEqual([
      'stats.bucketMs must be a positive integer, got 0.',
      'stats.nearLimitRatio must be a number above 0 and at most 1, got 1.5.',
    ]);
    expect(problemsOf(options({ stats: { bucketMs: 10_000, retentionMs: 5_000, reportIntervalMs: 1_000 } }))).toEqual([
      'stats.retentionMs (5000) must be at least stats.bucketMs (10000).',
    ]);
  });

  it('bounds the buckets kept, so that a summary stays far below a MongoDB document', () => {
    // 1 s buckets over 15 minutes: 901 buckets of up to 24 320 bytes each with the defaults.
    expect(statsBucketBytes(DEFAULT_STATS)).toBe(24_320);
    const max = Math.floor(SUMMARY_BUDGET_BYTES / 24_320);
    expect(max).toBe(172);
    expect(problemsOf(options({ stats: { bucketMs: 1_000, reportIntervalMs: 500 } }))).toEqual([
      `stats.retentionMs / stats.bucketMs keeps 901 buckets per instance, more than the 172 whose summary (up to 24320 bytes each with these stats.topKeys and stats.maxRuleLabels) stays within ${SUMMARY_BUDGET_BYTES} bytes, well below a MongoDB document's 16 MB. ` +
        'Raise stats.bucketMs to at least 5264, shorten stats.retentionMs to at most 171000, or lower stats.topKeys or stats.maxRuleLabels.',
    ]);
    // Either fix it offers is accepted, and so are the defaults.
    expect(problemsOf(options({ stats: { bucketMs: 5_264 } }))).toEqual([]);
    expect(problemsOf(options({ stats: { bucketMs: 1_000, retentionMs: 171_000, reportIntervalMs: 500 } }))).toEqual([]);
    expect(problemsOf(options({ stats: {} }))).toEqual([]);
    // More top keys make each bucket larger, and so fewer of them fit.
    expect(problemsOf(options({ stats: { topKeys: 1_000 } }))).toEqual([
      expect.stringMatching(/^stats.retentionMs \/ stats.bucketMs keeps 91 buckets per instance, more than the 7 /),
    ]);
  });

  it('wants each instance to write its summary before the last one expires', () => {
    expect(problemsOf(options({ stats: { retentionMs: 60_000, reportIntervalMs: 60_000 } }))).toEqual([
      "stats.reportIntervalMs (60000) must be less than stats.retentionMs (60000): each summary is kept retentionMs after it is written, so an instance's figures would expire between its writes. Shorten stats.reportIntervalMs or raise stats.retentionMs.",
    ]);
    expect(problemsOf(options({ stats: { retentionMs: 60_000, reportIntervalMs: 59_999 } }))).toEqual([]);
  });

  it('keeps topKeys within the client keys a bucket counts', () => {
    expect(problemsOf(options({ stats: { topKeys: 1_001, retentionMs: 10_000, reportIntervalMs: 1_000 } }))).toEqual([
      'stats.topKeys (1001) is more than the 1000 client keys a bucket counts refusals of; set it to at most 1000.',
    ]);
  });
});
