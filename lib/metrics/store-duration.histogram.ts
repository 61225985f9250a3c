import type { Metric, Registry } from 'prom-client';
import type { StoreTimings } from '../observability/store-timings.js';

interface ExportedValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName: string;
}

/**
 * `<prefix>store_duration_seconds{operation}`: a histogram as a prom-client registry reads one, whose
 * counts are not observed through prom-client but read at scrape time from the StoreTimings the store
 * gateway fills (two clock reads and a few increments per store call, instead of a label lookup per
 * call).
 */
export class StoreDurationHistogram {
  readonly type = 'histogram';
  /** How prom-client's AggregatorRegistry merges workers' values. */
  readonly aggregator = 'sum';
  readonly help =
    "Latency of Rampart's rate-limit store calls in seconds, by operation (consume: one rule's count on a request; a timed-out call counts as its wait).";

  constructor(
    readonly name: string,
    private readonly timings: StoreTimings,
  ) {}

  /** Adds it to `registry` (which reads `name`, `type`, `help` and `get()`, the shape of its own metrics). */
  registerIn(registry: Registry): void {
    registry.registerMetric(this as unknown as Metric);
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() });
  }

  /** The counts belong to the store gateway: a registry's `resetMetrics()` leaves them. */
  reset(): void {}

  private values(): ExportedValue[] {
    const values: ExportedValue[] = [];
    const bounds = this.timings.buckets;
    const bucket = `${this.name}_bucket`;
    for (const [operation, timings] of this.timings.entries()) {
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += timings.counts[i];
        values.push({ metricName: bucket, labels: { operation, le }, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { operation, le: '+Inf' }, value: timings.count });
      values.push({ metricName: `${this.name}_sum`, labels: { operation }, value: timings.sumMs / 1000 });
      values.push({ metricName: `${this.name}_count`, labels: { operation }, value: timings.count });
    }
    return values;
  }
}
