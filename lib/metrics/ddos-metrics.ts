import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { DdosDetector } from '../ddos/ddos-detector.js';
import { histogramValues } from './store-duration.histogram.js';

/** What the metrics read of a DDoS detector (whatever its request context type). */
export type DdosReadings = Pick<DdosDetector, 'snapshot' | 'scores'>;

/** The names of the DDoS detection's metrics. */
export function ddosMetricNames(prefix: string): string[] {
  return [`${prefix}ddos_attack`, `${prefix}ddos_window_requests`, `${prefix}ddos_suspects_total`, `${prefix}ddos_suspicion_score`];
}

/**
 * Registers the DDoS detection's metrics, read at scrape time from the detector: whether an attack
 * is under way, the window's requests, the suspects found, and the histogram of the suspicion scores
 * judged during attacks. Its blocks are counted by `<prefix>blocks_total{source="ddos"}`.
 */
export function registerDdosMetrics(ddos: DdosReadings, prefix: string, registry: Registry): void {
  const [attack, requests, suspects, score] = ddosMetricNames(prefix) as [string, string, string, string];
  new Gauge({
    name: attack,
    help: '1 while this instance sees a DDoS attack (the requests of the ddos window reached ddos.threshold), else 0.',
    registers: [registry],
    collect(this: Gauge) {
      this.set(ddos.snapshot().attack ? 1 : 0);
    },
  });
  new Gauge({
    name: requests,
    help: 'Requests this instance decided within the ddos window, every client together (what ddos.threshold is compared with).',
    registers: [registry],
    collect(this: Gauge) {
      this.set(ddos.snapshot().requests);
    },
  });
  new Counter({
    name: suspects,
    help: 'Clients found suspect during DDoS attacks (once per client and attack).',
    registers: [registry],
    collect(this: Counter) {
      this.reset();
      this.inc(ddos.snapshot().suspects);
    },
  });
  const histogram = { name: score, help: 'Suspicion scores (0 to 1) of the requests judged during DDoS attacks.', type: 'histogram', aggregator: 'sum' };
  // Read at scrape time, like the store durations: the detector keeps the counts, a registry reset leaves them.
  registry.registerMetric({
    ...histogram,
    get: () => {
      const { buckets, counts, sum, count } = ddos.scores();
      return Promise.resolve({ ...histogram, values: histogramValues(score, buckets, counts, sum, count) });
    },
    reset: () => undefined,
  } as unknown as Metric);
}
