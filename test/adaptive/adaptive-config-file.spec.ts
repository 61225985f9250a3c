import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, RateLimitConfigurationError } from '../../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-adaptive-'));
let n = 0;
function file(text: string): string {
  const path = join(dir, `rampart-${++n}.yaml`);
  writeFileSync(path, text);
  return path;
}

describe('adaptive limits in the configuration file', () => {
  it('reads a rule with adaptive settings, durations with units', async () => {
    const loaded = await loadConfigFile(
      file(`
rules:
  - name: api
    limit: 100
    windowMs: 1m
    adaptive: { learningRate: 0.2, anomalyThreshold: 3, min: 10, max: 200, intervalMs: 10s, retentionMs: 1h }
  - { name: plain, limit: 5, windowMs: 1s, adaptive: true }
`),
    );
    expect(loaded.options.rules).toEqual([
      {
        name: 'api',
        limit: 100,
        windowMs: 60_000,
        adaptive: { learningRate: 0.2, anomalyThreshold: 3, min: 10, max: 200, intervalMs: 10_000, retentionMs: 3_600_000 },
      },
      { name: 'plain', limit: 5, windowMs: 1_000, adaptive: true },
    ]);
  });

  it('names the line of each hostile setting', async () => {
    const path = file(`rules:
  - name: api
    limit: 100
    windowMs: 1m
    adaptive:
      learningRate: .nan
      anomalyThreshold: -3
      min: 0
      trust: 1
`);
    const error = await loadConfigFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RateLimitConfigurationError);
    const problems = (error as RateLimitConfigurationError).problems.map((p) => p.replace(`${dir}/`, ''));
    expect(problems).toEqual([
      `rampart-${n}.yaml:6:21: rules[0].adaptive.learningRate must be a number in (0, 1], got NaN.`,
      `rampart-${n}.yaml:7:25: rules[0].adaptive.anomalyThreshold must be a number in (0, ∞), got -3.`,
      `rampart-${n}.yaml:8:12: rules[0].adaptive.min must be a positive integer, got 0.`,
      expect.stringMatching(/^rampart-\d+\.yaml:9:14: rules\[0\]\.adaptive\.trust is not an adaptive setting; the settings are intervalMs, learningRate/),
    ]);
  });
});
