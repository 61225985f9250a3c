import type { InstanceStatsSummary } from '../observability/stats-summary.js';
import type { StatsStore } from './stats-store.interface.js';
import { checkStatsPut, checkTime } from './store-input.js';

/**
 * Statistics summaries in this process's memory: the instances that share one `memoryStorage()`
 * (one app, or several Rampart instances of one process). Expired summaries are dropped whenever
 * summaries are written or listed, so memory follows the live instances.
 */
export class MemoryStatsStore implements StatsStore {
  private readonly summaries = new Map<string, { readonly summary: InstanceStatsSummary; readonly expiresAtMs: number }>();

  put(summary: InstanceStatsSummary, expiresAtMs: number): Promise<void> {
    try {
      this.write(summary, expiresAtMs);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  list(nowMs: number): Promise<InstanceStatsSummary[]> {
    try {
      checkTime(nowMs, 'nowMs');
      this.drop(nowMs);
      return Promise.resolve([...this.summaries.values()].map(({ summary }) => structuredClone(summary)));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private write(summary: InstanceStatsSummary, expiresAtMs: number): void {
    const instance = checkStatsPut(summary, expiresAtMs, 'MemoryStatsStore');
    this.drop(summary.atMs);
    // A copy: later changes to the caller's object are not the stored summary's.
    this.summaries.set(instance, { summary: structuredClone(summary), expiresAtMs });
  }

  /** Forgets the summaries expired at `nowMs`. */
  private drop(nowMs: number): void {
    for (const [instance, { expiresAtMs }] of this.summaries) if (expiresAtMs <= nowMs) this.summaries.delete(instance);
  }
}
