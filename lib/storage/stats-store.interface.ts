import type { InstanceStatsSummary } from '../observability/stats-summary.js';

/**
 * Where every instance writes its statistics summary (see `StatsOptions`), so that the admin API
 * sums the whole fleet: one record per instance, replaced at each write, gone after its expiry.
 */
export interface StatsStore {
  /** Writes (replaces) the summary of `summary.instance`, kept until `expiresAtMs` (epoch ms, the app's clock). */
  put(summary: InstanceStatsSummary, expiresAtMs: number): Promise<void>;
  /** Every summary not expired at `nowMs`. */
  list(nowMs: number): Promise<InstanceStatsSummary[]>;
}
