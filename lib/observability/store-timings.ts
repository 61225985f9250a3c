/**
 * Upper bounds of the store latency buckets, in seconds: from 100 µs (a local Redis) to 5 s (past
 * any `storeTimeoutMs` worth having).
 */
export const DEFAULT_STORE_DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
]);

/** The latencies of one store operation: a count per bucket (not cumulative; the last is `+Inf`), their sum and number. */
export class OperationTimings {
  /** Calls per bucket; index `boundsMs.length` holds those above every bound. */
  readonly counts: number[];
  sumMs = 0;
  count = 0;

  constructor(private readonly boundsMs: readonly number[]) {
    this.counts = new Array<number>(boundsMs.length + 1).fill(0);
  }

  observe(ms: number): void {
    const { boundsMs } = this;
    let i = 0;
    while (i < boundsMs.length && ms > boundsMs[i]) i++;
    this.counts[i]++;
    this.sumMs += ms;
    this.count++;
  }
}

/**
 * How long store calls take, by operation (`consume` on the request path), for the Prometheus
 * histogram. Off until `enable` (the metrics enable it when they are registered), so that an app
 * without metrics does not even read the time: callers check `active` before timing a call.
 * Counts live here, not in a prom-client histogram, so that the request path costs two clock reads
 * and a few increments; the histogram is built from them at scrape time.
 */
export class StoreTimings {
  /** Whether calls are being timed. */
  active = false;
  private boundsSeconds: readonly number[] = DEFAULT_STORE_DURATION_BUCKETS_SECONDS;
  private readonly operations = new Map<string, OperationTimings>();

  /** Starts timing, with these bucket bounds (in seconds, ascending); the counts so far are kept if the bounds are the same. */
  enable(boundsSeconds: readonly number[] = DEFAULT_STORE_DURATION_BUCKETS_SECONDS): void {
    if (!sameBounds(boundsSeconds, this.boundsSeconds)) this.operations.clear();
    this.boundsSeconds = Object.freeze([...boundsSeconds]);
    this.active = true;
  }

  /** Stops timing (the counts are kept). */
  disable(): void {
    this.active = false;
  }

  /** The bucket bounds, in seconds. */
  get buckets(): readonly number[] {
    return this.boundsSeconds;
  }

  /** Records one call of `operation` that took `ms` milliseconds. */
  observe(operation: string, ms: number): void {
    let timings = this.operations.get(operation);
    if (timings === undefined) {
      timings = new OperationTimings(this.boundsSeconds.map((s) => s * 1000));
      this.operations.set(operation, timings);
    }
    timings.observe(ms);
  }

  /** Each operation timed so far, with its counts. */
  entries(): Iterable<[string, OperationTimings]> {
    return this.operations.entries();
  }
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((bound, i) => bound === b[i]);
}
