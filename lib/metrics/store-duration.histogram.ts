import type { Metric, Registry } from 'prom-client';
import type { StoreTimings } from '../observability/store-timings.js';

/** One series value as a prom-client registry reads it from a metric's `get()`. */
export interface ExportedValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName: string;
}

/**
 * The series of one histogram read from counts kept elsewhere (not observed through prom-client):
 * cumulative `<name>_bucket{le}` values, `+Inf`, `<name>_sum` and `<name>_count`, each with `labels`.
 */
export function histogramValues(
  name: string,
  bounds: readonly number[],
  counts: readonly number[],
  sum: number,
  count: number,
  labels: Record<string, string> = {},
): ExportedValue[] {
  let cumulative = 0;
  const values: ExportedValue[] = bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: (cumulative += counts[i]!) }));
  values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
  values.push({ metricName: `${name}_sum`, labels, value: sum });
  values.push({ metricName: `${name}_count`, labels, value: count });
  return values;
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
    for (const [operation, timings] of this.timings.entries()) {
      values.push(...histogramValues(this.name, this.timings.buckets, timings.counts, timings.sumMs / 1000, timings.count, { operation }));
    }
    return values;
  }
}
