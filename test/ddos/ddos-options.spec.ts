import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, RateLimitConfigurationError, type RateLimitModuleOptions } from '../../lib/index.js';
import { changedAtRestart } from '../../lib/config-file/active-config.js';
import { resolveRateLimitConfig } from '../../lib/rate-limit.config.js';
import { DEFAULT_DDOS } from '../../lib/ddos/ddos-options.js';
import { problemsOf } from '../support/config-problems.js';

const ddos = (value: unknown) => problemsOf({ ddos: value as RateLimitModuleOptions['ddos'] });

describe('the ddos option', () => {
  it('is off when left out or false, takes every default with true, and fills the defaults of an object', () => {
    expect(resolveRateLimitConfig({}).ddos).toBe(false);
    expect(resolveRateLimitConfig({ ddos: false }).ddos).toBe(false);
    expect(resolveRateLimitConfig({ ddos: { enabled: false, threshold: 5 } }).ddos).toBe(false);
    expect(resolveRateLimitConfig({ ddos: true }).ddos).toEqual(DEFAULT_DDOS);
    const config = resolveRateLimitConfig({ ddos: { threshold: 500, windowMs: 10_000, weights: { rate: 2, burst: 1, spread: 0, errors: 1 } } });
    expect(config.ddos).toEqual({ ...DEFAULT_DDOS, threshold: 500, windowMs: 10_000, weights: { rate: 0.5, burst: 0.25, spread: 0, errors: 0.25 } });
    // The Nest module reads each HTTP response's status for the error signal only when it is on.
    expect(config.responseOf).toEqual(expect.any(Function));
    expect(resolveRateLimitConfig({}).responseOf).toBeUndefined();
  });

  it('refuses hostile values at startup, every problem listed', () => {
    expect(ddos(5)).toEqual([expect.stringMatching(/^ddos must be an object of DDoS detection options .* got 5\.$/)]);
    expect(
      ddos({
        threshold: NaN,
        windowMs: -1,
        clientThreshold: Infinity,
        blockDurationMs: 1.5,
        maxClients: 0,
        maxEndpoints: '10',
        scoreThreshold: 0,
        autoBlock: 'yes',
      }),
    ).toEqual([
      'ddos.windowMs must be a positive integer, got -1.',
      'ddos.threshold must be a positive integer, got NaN.',
      'ddos.clientThreshold must be a positive integer, got Infinity.',
      'ddos.blockDurationMs must be a positive integer, got 1.5.',
      'ddos.maxClients must be a positive integer, got 0.',
      'ddos.maxEndpoints must be a positive integer, got "10".',
      'ddos.scoreThreshold must be a number above 0 and at most 1, got 0.',
      'ddos.autoBlock must be true or false, got "yes".',
    ]);
    expect(ddos({ scoreThreshold: 1.5 })).toEqual(['ddos.scoreThreshold must be a number above 0 and at most 1, got 1.5.']);
    expect(ddos({ windowMs: 5 })).toEqual(['ddos.windowMs must be at least 10 (the window is cut into 10 slots of whole milliseconds), got 5.']);
    expect(ddos({ enabled: 'no' })).toEqual(['ddos.enabled must be true or false, got "no".']);
    expect(ddos({ thresold: 5 })).toEqual([expect.stringMatching(/^ddos\.thresold is not an option/)]);
    expect(ddos({ weights: { rate: -1 } })).toEqual([expect.stringMatching(/^ddos\.weights must be an object of non-negative numbers/)]);
    expect(ddos({ weights: { rate: 0, burst: 0, spread: 0, errors: 0 } })).toEqual([expect.stringMatching(/whose sum is above 0/)]);
    expect(ddos({ weights: { rate: NaN } })).toHaveLength(1);
    expect(ddos({ weights: 'heavy' })).toHaveLength(1);
  });
});

describe('the ddos section of a configuration file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-ddos-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('sets the option, durations written with units', async () => {
    const loaded = await loadConfigFile(
      file('good.yaml', 'version: 1\nddos:\n  threshold: 10000\n  windowMs: 1m\n  autoBlock: true\n  blockDurationMs: 1h\n  scoreThreshold: 0.7\n'),
    );
    expect(loaded.options.ddos).toEqual({ threshold: 10_000, windowMs: 60_000, autoBlock: true, blockDurationMs: 3_600_000, scoreThreshold: 0.7 });
    // Read at startup: a reload that changes it says a restart is needed.
    const changed = await loadConfigFile(file('changed.yaml', 'version: 1\nddos:\n  threshold: 20000\n'));
    expect(changedAtRestart(loaded, changed)).toEqual(['ddos']);
  });

  it('names a bad value with its line', async () => {
    const path = file('bad.yaml', 'version: 1\nddos:\n  threshold: -3\n  blockDurationMs: soon\n');
    const error = await loadConfigFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitConfigurationError);
    const problems = (error as RateLimitConfigurationError).problems.map((p) => p.replace(`${dir}/`, ''));
    expect(problems).toEqual([
      expect.stringMatching(/^bad\.yaml:3:\d+: ddos\.threshold must be a positive integer, got -3\.$/),
      expect.stringMatching(/^bad\.yaml:4:\d+: ddos\.blockDurationMs must be a positive integer, got "soon"\.$/),
    ]);
  });
});
