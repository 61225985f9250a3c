import type { StatsConfig } from './observability-config.js';
import { SpaceSaving } from './space-saving.js';
import { emptyOutcomes, type StatsBucketSummary } from './stats-summary.js';

/**
 * Most client keys one bucket counts refusals of (and so the most `stats.topKeys` can be). Past
 * it, a newly refused key replaces the least refused one (see `SpaceSaving`), so that a heavy
 * offender is listed however late it comes.
 */
export const MAX_KEYS_PER_BUCKET = 1_000;

/** What one instance decided within one time bucket. */
export class StatsBucket {
  readonly outcomes = emptyOutcomes();
  violations = 0;
  shadowViolations = 0;
  blocks = 0;
  bans = 0;
  /** Per rule: requests counted, refused, near-limit admissions. */
  private readonly rules = new Map<string, [number, number, number]>();
  /** Refusals per client key, the most refused ones (bounded). */
  private readonly keys = new SpaceSaving(MAX_KEYS_PER_BUCKET);

  constructor(readonly startMs: number) {}

  refusedBy(key: string): void {
    this.keys.add(key);
  }

  ruleCounted(rule: string, refused: boolean, near: boolean): void {
    let counts = this.rules.get(rule);
    if (counts === undefined) this.rules.set(rule, (counts = [0, 0, 0]));
    counts[0]++;
    if (refused) counts[1]++;
    if (near) counts[2]++;
  }

  violated(shadow: boolean): void {
    if (shadow) this.shadowViolations++;
    else this.violations++;
  }

  /** Counts an enforced block or ban made; shadow ones are left out on purpose (the requests they would refuse count as `shadow_blocked`, `shadow_banned`). */
  escalated(kind: 'block' | 'ban' | 'unban', shadow: boolean): void {
    if (shadow) return;
    if (kind === 'block') this.blocks++;
    else if (kind === 'ban') this.bans++;
  }

  summary(topKeys: number): StatsBucketSummary {
    return {
      startMs: this.startMs,
      outcomes: [...this.outcomes],
      violations: this.violations,
      shadowViolations: this.shadowViolations,
      blocks: this.blocks,
      bans: this.bans,
      rules: [...this.rules].map(([name, [requests, refused, near]]) => [name, requests, refused, near] as const),
      keys: this.keys.top(topKeys),
    };
  }
}

/** The buckets of the last `retentionMs`, oldest first; a bucket is made when something happens in it. */
export class StatsBuckets {
  private readonly buckets: StatsBucket[] = [];
  private current: StatsBucket | undefined;

  constructor(private readonly config: Pick<StatsConfig, 'bucketMs' | 'retentionMs' | 'topKeys'>) {}

  /** The bucket of `atMs` (a clock that went back gets the bucket of its time, made if need be). */
  at(atMs: number): StatsBucket {
    const startMs = atMs - (atMs % this.config.bucketMs);
    const { current } = this;
    if (current !== undefined && current.startMs === startMs) return current;
    let bucket = this.buckets.find((b) => b.startMs === startMs);
    if (bucket === undefined) {
      bucket = new StatsBucket(startMs);
      let at = this.buckets.length;
      while (at > 0 && this.buckets[at - 1].startMs > startMs) at--;
      this.buckets.splice(at, 0, bucket);
      this.prune(atMs);
    }
    if (current === undefined || bucket.startMs >= current.startMs) this.current = bucket;
    return bucket;
  }

  /** Summaries of the buckets within the retention period at `nowMs`. */
  summaries(nowMs: number): StatsBucketSummary[] {
    this.prune(nowMs);
    return this.buckets.map((b) => b.summary(this.config.topKeys));
  }

  private prune(nowMs: number): void {
    const oldest = nowMs - this.config.retentionMs;
    let drop = 0;
    while (drop < this.buckets.length && this.buckets[drop].startMs + this.config.bucketMs <= oldest) drop++;
    if (drop > 0) {
      const dropped = this.buckets.splice(0, drop);
      if (this.current !== undefined && dropped.includes(this.current)) this.current = this.buckets.at(-1);
    }
  }
}
