import { createRampart, RateLimitConfigurationError, type RampartOptions, type Verdict } from '../../lib/engine/index.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const CLIENT = '203.0.113.7';
const HOUR = 3_600_000;
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** One request a second under a limit of 1 per second: every second request is a violation. */
const rules: RampartOptions['rules'] = [{ limit: 1, windowMs: 1_000, algorithm: 'fixed-window' }];
/** A block of 1 minute after each violation, a ban at the third. */
const escalation = { blockAfterViolations: 1, blockDurationMs: 60_000, maxBlockDurationMs: 60_000, permanentBanAfter: 3 };

async function started(options: RampartOptions = {}) {
  const clock = new FakeClock(T0);
  const rampart = createRampart({ clock, logger: silent, rules, ...options });
  await rampart.start();
  return { rampart, clock };
}

/** Two requests in one second (the second one violates), then past the block that follows. */
async function violate(rampart: Awaited<ReturnType<typeof started>>['rampart'], clock: FakeClock): Promise<Verdict> {
  await rampart.decide({ target: 't', address: CLIENT });
  const verdict = await rampart.decide({ target: 't', address: CLIENT });
  clock.advance(60_000);
  return verdict;
}

describe('autoBanDurationMs', () => {
  it('bans for good by default', async () => {
    const { rampart, clock } = await started({ escalation });
    expect((await violate(rampart, clock)).outcome).toBe('blocked');
    expect((await violate(rampart, clock)).outcome).toBe('blocked');
    expect((await violate(rampart, clock)).outcome).toBe('banned');
    clock.advance(365 * 24 * HOUR);
    expect((await rampart.decide({ target: 't', address: CLIENT })).outcome).toBe('banned');
    await rampart.stop();
  });

  it('makes automatic bans end after that long, answered as a block with its Retry-After', async () => {
    const { rampart, clock } = await started({ escalation, autoBanDurationMs: 6 * HOUR });
    await violate(rampart, clock);
    await violate(rampart, clock);
    const banned = await violate(rampart, clock);
    expect(banned).toMatchObject({
      outcome: 'blocked',
      retryAfterMs: 6 * HOUR,
      ban: { kind: 'temporary', source: 'auto', target: { type: 'key', key: CLIENT } },
    });
    expect((banned as { ban: { reason: string } }).ban.reason).toMatch(/banned for 21600 s/);
    clock.advance(6 * HOUR - 60_001);
    expect((await rampart.decide({ target: 't', address: CLIENT })).outcome).toBe('blocked');
    clock.advance(1);
    expect((await rampart.decide({ target: 't', address: CLIENT })).outcome).toBe('admitted');
    await rampart.stop();
  });

  it('is validated at startup with the other options', () => {
    const problemsOf = (options: RampartOptions) => {
      try {
        createRampart({ logger: silent, ...options });
        return [];
      } catch (error) {
        return (error as RateLimitConfigurationError).problems;
      }
    };
    expect(problemsOf({ autoBanDurationMs: 0 })).toEqual(['autoBanDurationMs must be a positive integer, got 0.']);
    expect(problemsOf({ autoBanDurationMs: '1d' as unknown as number })).toEqual(['autoBanDurationMs must be a positive integer, got "1d".']);
    expect(problemsOf({ autoBanDurationMs: HOUR, rules: [{ limit: 1, windowMs: 1_000, escalation: 'x' as never }] })).toEqual([
      expect.stringContaining('rules[0].escalation must be an object'),
      expect.stringContaining('autoBanDurationMs (3600000) is shorter than escalation.maxBlockDurationMs (86400000)'),
    ]);
    expect(problemsOf({ autoBanDurationMs: 7 * 24 * HOUR })).toEqual([]);
    expect(problemsOf({ autoBanDurationMs: HOUR, escalation: { maxBlockDurationMs: HOUR } })).toEqual([]);
  });
});
