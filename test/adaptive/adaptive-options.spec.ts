import { Controller, Get } from '@nestjs/common';
import { RateLimitModule, type RateLimitModuleOptions } from '../../lib/index.js';
import { problemsOf } from '../support/config-problems.js';
import { startApp } from '../support/http-app.js';

const rule = (adaptive: unknown, extra: Record<string, unknown> = {}): RateLimitModuleOptions =>
  ({ rules: [{ name: 'api', limit: 100, windowMs: 60_000, adaptive, ...extra }] }) as RateLimitModuleOptions;

@Controller()
class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

describe('adaptive limits: settings checked at startup', () => {
  it('takes true, an empty object and every setting in range', () => {
    expect(problemsOf(rule(true))).toEqual([]);
    expect(problemsOf(rule({}))).toEqual([]);
    expect(problemsOf(rule(false))).toEqual([]);
    expect(
      problemsOf(
        rule({
          intervalMs: 10_000,
          learningRate: 1,
          anomalyThreshold: 2.5,
          warmupIntervals: 5,
          minDeviation: 0.5,
          initialTrust: 1,
          trustGain: 0.05,
          anomalyPenalty: 1,
          violationPenalty: 0,
          min: 10,
          max: 300,
          retentionMs: 3_600_000,
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    ['learningRate', 0, 'rules[0].adaptive.learningRate must be a number in (0, 1], got 0.'],
    ['learningRate', 1.5, 'rules[0].adaptive.learningRate must be a number in (0, 1], got 1.5.'],
    ['learningRate', NaN, 'rules[0].adaptive.learningRate must be a number in (0, 1], got NaN.'],
    ['learningRate', '0.1', 'rules[0].adaptive.learningRate must be a number in (0, 1], got "0.1".'],
    ['anomalyThreshold', -3, 'rules[0].adaptive.anomalyThreshold must be a number in (0, ∞), got -3.'],
    ['anomalyThreshold', Infinity, 'rules[0].adaptive.anomalyThreshold must be a number in (0, ∞), got Infinity.'],
    ['minDeviation', 0, 'rules[0].adaptive.minDeviation must be a number in (0, ∞), got 0.'],
    ['initialTrust', 0, 'rules[0].adaptive.initialTrust must be a number in (0, 1], got 0.'],
    ['trustGain', NaN, 'rules[0].adaptive.trustGain must be a number in (0, 1], got NaN.'],
    ['anomalyPenalty', -0.1, 'rules[0].adaptive.anomalyPenalty must be a number in [0, 1], got -0.1.'],
    ['violationPenalty', 2, 'rules[0].adaptive.violationPenalty must be a number in [0, 1], got 2.'],
    ['intervalMs', 0, 'rules[0].adaptive.intervalMs must be a positive integer, got 0.'],
    ['warmupIntervals', 1.5, 'rules[0].adaptive.warmupIntervals must be a positive integer, got 1.5.'],
    ['min', -1, 'rules[0].adaptive.min must be a positive integer, got -1.'],
    ['max', NaN, 'rules[0].adaptive.max must be a positive integer, got NaN.'],
    ['retentionMs', Infinity, 'rules[0].adaptive.retentionMs must be a positive integer, got Infinity.'],
  ])('refuses %s = %p', (field, value, message) => {
    expect(problemsOf(rule({ [field]: value }))).toEqual([message]);
  });

  it('refuses settings that cannot hold together, and unknown ones', () => {
    expect(problemsOf(rule('yes'))).toEqual([
      'rules[0].adaptive must be true or an object of adaptive settings (learningRate, anomalyThreshold, min, max...), got "yes".',
    ]);
    expect(problemsOf(rule({ learningrate: 0.1 }))[0]).toMatch(
      /^rules\[0\]\.adaptive\.learningrate is not an adaptive setting; the settings are intervalMs, learningRate/,
    );
    expect(problemsOf(rule({ min: 20, max: 10 }))).toEqual([
      'rules[0].adaptive.min (20) is above rules[0].adaptive.max (10): the effective limit could never be clamped into [min, max]. Lower min or raise rules[0].adaptive.max.',
    ]);
    expect(problemsOf(rule({ min: 200 }))[0]).toContain('rules[0].adaptive.min (200) is above the rule limit (100)');
    expect(problemsOf(rule({ min: 2 }, { cost: 5 }))).toEqual([
      "rules[0].adaptive.min (2) is below the rule's cost (5): a distrusted client's request could never pass. Raise min to at least the cost.",
    ]);
    expect(problemsOf(rule({ intervalMs: 60_000, retentionMs: 1_000 }))[0]).toContain('retentionMs (1000) is shorter than intervalMs (60000)');
    // A broken windowMs is reported once, not again as the default interval.
    expect(problemsOf(rule(true, { windowMs: NaN }))).toEqual(['rules[0].windowMs must be a positive integer, got NaN.']);
  });

  it('stops a Nest app from starting with a hostile setting', async () => {
    await expect(startApp('express', { imports: [RateLimitModule.forRoot(rule({ learningRate: NaN }))], controllers: [PingController] })).rejects.toThrow(
      'rules[0].adaptive.learningRate must be a number in (0, 1], got NaN.',
    );
  });
});
