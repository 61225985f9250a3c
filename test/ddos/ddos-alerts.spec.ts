import { createRampart, type AlertEvent } from '../../lib/index.js';
import { slackMessage } from '../../lib/alerts/alert-payload.js';
import { problemsOf } from '../support/config-problems.js';
import { FakeClock } from '../support/fake-clock.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
const thresholds = { blockRate: false, violationsPerMinute: false } as const;

describe('the ddosScore alert', () => {
  it('sends the warning, then the critical level, by the highest suspicion score of the window', async () => {
    const clock = new FakeClock();
    const published: AlertEvent[] = [];
    const rampart = createRampart({
      clock,
      logger: silent,
      escalation: false,
      events: { onAlert: (event) => void published.push(event) },
      ddos: { threshold: 50, clientThreshold: 20, autoBlock: false },
      alerts: { cooldownMs: 1_000, thresholds },
    });
    await rampart.start();
    expect(await rampart.alerts!.evaluate()).toEqual([]);
    // An attack whose worst client scores 0.4 · 30/20 (capped at 1) + 0.15 (all in one slot) = 0.55: a warning.
    for (let i = 0; i < 30; i++) await rampart.decide({ target: 'GET /a', address: '10.0.0.1' });
    for (let i = 0; i < 20; i++) await rampart.decide({ target: 'GET /a', address: `10.1.0.${i}` });
    expect(rampart.ddos!.peakScore()).toBeCloseTo(0.55, 12);
    const [warning] = await rampart.alerts!.evaluate();
    expect(warning).toMatchObject({ alert: 'ddosScore', level: 'warning', value: expect.closeTo(0.55, 12), threshold: 0.5 });
    expect(slackMessage(warning!).text).toContain('DDoS suspicion score 0.55 over the last 1 min (threshold 0.50)');
    // Refusals push a client's score past 0.8: critical.
    const refusing = createRampart({
      clock,
      logger: silent,
      escalation: false,
      rules: [{ limit: 1, windowMs: 60_000 }],
      ddos: { threshold: 50, clientThreshold: 20, autoBlock: false },
      alerts: { thresholds },
    });
    for (let i = 0; i < 50; i++) await refusing.decide({ target: 'GET /a', address: '10.0.0.1' });
    expect(await refusing.alerts!.evaluate()).toEqual([expect.objectContaining({ alert: 'ddosScore', level: 'critical', threshold: 0.8 })]);
    // The window passes: no score, no alert.
    clock.advance(61_000);
    expect(rampart.ddos!.peakScore()).toBe(0);
    expect(await rampart.alerts!.evaluate()).toEqual([]);
    await rampart.stop();
    await refusing.stop();
    expect(published).toEqual([warning]);
  });

  it('is not watched without the ddos option, and checks its levels', async () => {
    const rampart = createRampart({ clock: new FakeClock(), logger: silent, alerts: { thresholds: { ...thresholds, ddosScore: { warning: 0.01 } } } });
    for (let i = 0; i < 100; i++) await rampart.decide({ target: 'GET /a', address: '10.0.0.1' });
    expect(await rampart.alerts!.evaluate()).toEqual([]);
    expect(problemsOf({ alerts: { thresholds: { ddosScore: { warning: 1.5 } } } })).toEqual([
      'alerts.thresholds.ddosScore.warning must be a suspicion score above 0 and at most 1, got 1.5.',
    ]);
  });
});
