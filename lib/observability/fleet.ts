import type { StatsStore } from '../storage/stats-store.interface.js';
import type { DecisionRecorder } from './decision-recorder.js';
import { sumStats, type StatsReport } from './fleet-stats.js';
import type { InstanceStatsSummary } from './stats-summary.js';

/**
 * Every instance's summary at `nowMs`: this instance's own, live, and the others' as last written
 * to `store` (none without one).
 */
export async function fleetSummaries(recorder: DecisionRecorder, store: StatsStore | undefined, nowMs: number): Promise<InstanceStatsSummary[]> {
  const live = recorder.summary(nowMs);
  const stored = store ? await store.list(nowMs) : [];
  return [live, ...stored.filter((s) => s.instance !== live.instance)];
}

/** The fleet's figures over the last `windowMs` (one instance's with `instance`). */
export async function fleetStats(
  recorder: DecisionRecorder,
  store: StatsStore | undefined,
  nowMs: number,
  windowMs: number,
  instance?: string,
): Promise<StatsReport> {
  const summaries = await fleetSummaries(recorder, store, nowMs);
  const chosen = instance === undefined ? summaries : summaries.filter((s) => s.instance === instance);
  return sumStats(chosen, windowMs, nowMs, recorder.config.topKeys);
}
