import { Registry } from 'prom-client';
import { createRampart } from '../../lib/engine/index.js';
import { registerRampartMetrics } from '../../lib/metrics/index.js';
import { family } from '../support/exposition.js';
import { FakeClock } from '../support/fake-clock.js';
import { promtoolCheck } from '../support/promtool.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('the DDoS detection metrics', () => {
  it('show the attack, the window, the suspects, the scores and the blocks by source', async () => {
    const clock = new FakeClock();
    // A rule of 20 requests a minute: the flooders' refusals are errors (without errors, nobody is a suspect).
    const rampart = createRampart({
      clock,
      logger: silent,
      escalation: false,
      rules: [{ limit: 20, windowMs: 60_000 }],
      ddos: { threshold: 100, clientThreshold: 10, windowMs: 60_000 },
    });
    await rampart.start();
    const registry = new Registry();
    const metrics = registerRampartMetrics(rampart, { registry });
    expect(metrics.names).toEqual(
      expect.arrayContaining(['rampart_ddos_attack', 'rampart_ddos_window_requests', 'rampart_ddos_suspects_total', 'rampart_ddos_suspicion_score']),
    );
    const quiet = await registry.metrics();
    expect(family(quiet, 'rampart_ddos_attack')).toEqual({ rampart_ddos_attack: 0 });
    expect(family(quiet, 'rampart_ddos_suspicion_score')['rampart_ddos_suspicion_score_count']).toBe(0);

    // Two flooders (50 requests each at once, 30 of them refused) and one client of 1 request a second.
    for (let i = 0; i < 50; i++) {
      await rampart.decide({ target: 'GET /a', address: '10.0.0.1' });
      await rampart.decide({ target: 'GET /a', address: '10.0.0.2' });
    }
    await rampart.decide({ target: 'GET /b', address: '10.0.0.3' });
    await rampart.ddos!.settled();
    const text = await registry.metrics();
    expect(family(text, 'rampart_ddos_attack')).toEqual({ rampart_ddos_attack: 1 });
    expect(family(text, 'rampart_ddos_window_requests')).toEqual({ rampart_ddos_window_requests: 101 });
    expect(family(text, 'rampart_ddos_suspects_total')).toEqual({ rampart_ddos_suspects_total: 2 });
    // Judged at the attack's start (both flooders), then the third client's request: 3 scores.
    const scores = family(text, 'rampart_ddos_suspicion_score');
    expect(scores['rampart_ddos_suspicion_score_count']).toBe(3);
    expect(scores['rampart_ddos_suspicion_score_bucket{le="0.5"}']).toBe(1);
    expect(scores['rampart_ddos_suspicion_score_bucket{le="+Inf"}']).toBe(3);
    expect(family(text, 'rampart_blocks_total')['rampart_blocks_total{source="ddos",mode="enforced"}']).toBe(2);
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });

    // The traffic stops: the attack is over by the next scrape.
    clock.advance(60_000);
    expect(family(await registry.metrics(), 'rampart_ddos_attack')).toEqual({ rampart_ddos_attack: 0 });
    metrics.unregister();
    expect(registry.getSingleMetric('rampart_ddos_suspicion_score')).toBeUndefined();
    await rampart.stop();
  });

  it('are not registered without the ddos option', async () => {
    const rampart = createRampart({ clock: new FakeClock(), logger: silent });
    const registry = new Registry();
    expect(registerRampartMetrics(rampart, { registry }).names.some((n) => n.includes('ddos'))).toBe(false);
    expect(await registry.metrics()).not.toContain('rampart_ddos');
  });
});
