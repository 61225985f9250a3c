import type { Rampart } from '../engine/rampart.js';
import { namedClientKey } from '../engine/store-keys.js';
import type { TargetRule } from '../engine/target-rules.js';
import { safeStoreKey } from '../protection/rate-limit.service.js';
import type { AdminAdaptiveView } from './dto/adaptive-view.dto.js';

/**
 * A client's standing under each adaptive rule it has a state for: the state this instance holds,
 * or else the stored one (one read per rule), brought to now.
 */
export async function adaptiveViews(rampart: Rampart<never>, named: string, rules: readonly TargetRule<never>[]): Promise<AdminAdaptiveView[]> {
  const key = namedClientKey(named);
  const nowMs = rampart.engine.clock.now();
  const adaptive = rules.filter((r) => r.rule.adaptive !== undefined);
  const views = await Promise.all(adaptive.map((r) => rampart.adaptive.view(safeStoreKey(rampart.engine, r, key), r.rule.adaptive!, r.rule.storeRule, nowMs)));
  const out: AdminAdaptiveView[] = [];
  views.forEach((view, i) => {
    if (view === undefined) return;
    const { intervalStartMs, ...figures } = view;
    out.push({ rule: adaptive[i]!.rule.name, route: adaptive[i]!.countsPer, ...figures, intervalStart: new Date(intervalStartMs).toISOString() });
  });
  return out;
}
