/**
 * The recorder is on every request's path: once warm, `decided()` allocates nothing for requests
 * of known rules, protocols and client keys (no list, iterator, string or closure per request), so
 * a million decisions cause no young-generation garbage collection.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRampart } from '../../lib/engine/index.js';
import type { Decision } from '../../lib/engine/decision.js';
import type { Verdict } from '../../lib/engine/verdict.js';
import { DecisionRecorder } from '../../lib/observability/decision-recorder.js';
import { DEFAULT_STATS } from '../../lib/observability/observability-config.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Real decisions of every kind: admitted with a shadow rule's results, shadow-limited, limited, blocked. */
async function realDecisions(): Promise<[Decision<unknown>, Verdict<unknown>][]> {
  const rampart = createRampart({
    clock: new FakeClock(T0),
    logger: silent,
    logging: false,
    rules: [
      { name: 'enforced', limit: 3, windowMs: 60_000, algorithm: 'fixed-window' },
      { name: 'trial', limit: 2, windowMs: 60_000, algorithm: 'fixed-window', shadow: true },
    ],
  });
  const decided = jest.spyOn(rampart.stats!, 'decided');
  for (let i = 0; i < 6; i++) await rampart.decide({ target: 'GET /search', address: '203.0.113.7' });
  await rampart.decide({ target: 'GET /search', address: '198.51.100.1', protocol: 'ws', method: 'CONNECT' });
  await rampart.stop();
  return decided.mock.calls;
}

v8.setFlagsFromString('--expose-gc');
/** A full collection now, so that a measure starts with an empty young generation. */
const collect = runInNewContext('gc') as () => void;

/**
 * Young-generation collections while `run` runs (they are reported after it). Only those that
 * started while it ran count: in a run of every suite in one process, what earlier suites left
 * running (a client's heartbeat) may allocate, and be collected, in the waits around it.
 */
async function minorCollections(run: () => void): Promise<number> {
  collect();
  await new Promise((resolve) => setTimeout(resolve, 20));
  let count = 0;
  let from = Infinity;
  let to = -Infinity;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const minor = (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR;
      if (minor && entry.startTime >= from && entry.startTime <= to) count++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  from = performance.now();
  run();
  to = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  return count;
}

describe('DecisionRecorder.decided', () => {
  it('allocates nothing per request once warm: a million decisions of every kind, no young-generation collection', async () => {
    const decisions = await realDecisions();
    expect(new Set(decisions.map(([, verdict]) => verdict.outcome))).toEqual(new Set(['admitted', 'limited', 'blocked']));
    expect(decisions.some(([, v]) => v.outcome === 'admitted' && v.shadow !== undefined)).toBe(true);
    expect(decisions.some(([, v]) => v.outcome === 'admitted' && v.shadowResults !== undefined)).toBe(true);
    const recorder = new DecisionRecorder(DEFAULT_STATS, T0);
    const [requests, verdicts] = [decisions.map(([decision]) => decision), decisions.map(([, verdict]) => verdict)];
    const replay = (times: number) => {
      for (let i = 0; i < times; i++) for (let j = 0; j < requests.length; j++) recorder.decided(requests[j]!, verdicts[j]!);
    };
    replay(20_000); // warm: every rule, protocol and key seen, the code optimised
    const rounds = Math.ceil(1_000_000 / decisions.length);
    // A 16-byte allocation per decision would be 16 MB a measure: several collections in each. The
    // fewest of three measures, so that a collection the test process itself causes is not counted.
    const measures: number[] = [];
    for (let i = 0; i < 3; i++) measures.push(await minorCollections(() => replay(rounds)));
    expect(Math.min(...measures)).toBe(0);
    // And every decision was counted.
    const total = [...recorder.decisionSeries()].reduce((n, s) => n + s.value, 0);
    expect(total).toBe((20_000 + 3 * rounds) * decisions.length);
    // About a second on an idle machine; a busy one (other suites' servers) may take several.
  }, 20_000);
});
