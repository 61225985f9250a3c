import { formatRateLimit, formatRateLimitPolicy, mostRestrictive, secondsUntil } from '../../lib/core/headers.js';

const NOW = 1_000_000;
const items = [
  { name: 'burst', limit: 10, windowMs: 1_000, remaining: 4, resetAtMs: NOW + 400 },
  { name: 'daily', limit: 1000, windowMs: 86_400_000, remaining: 4, resetAtMs: NOW + 3_600_000 },
  { name: 'we"ird\\', limit: 5, windowMs: 1_500, remaining: 5, resetAtMs: NOW },
];

describe('rate-limit headers', () => {
  it('formats RateLimit-Policy as a structured list, windows in whole seconds', () => {
    expect(formatRateLimitPolicy(items)).toBe('"burst";q=10;w=1, "daily";q=1000;w=86400, "we\\"ird\\\\";q=5;w=2');
  });

  it('formats RateLimit with remaining and seconds to reset, rounded up', () => {
    expect(formatRateLimit(items, NOW)).toBe('"burst";r=4;t=1, "daily";r=4;t=3600, "we\\"ird\\\\";r=5;t=0');
  });

  it('never reports negative seconds', () => {
    expect(secondsUntil(NOW - 5_000, NOW)).toBe(0);
    expect(secondsUntil(NOW + 1, NOW)).toBe(1);
  });

  it('picks the rule with the fewest requests left, the later reset on a tie', () => {
    expect(mostRestrictive(items)?.name).toBe('daily');
    expect(mostRestrictive([])).toBeUndefined();
  });
});
