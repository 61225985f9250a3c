import { cachedLimits } from '../engine/dynamic-limits.js';
import { windowedKey } from '../engine/request-limits.js';
import type { Rampart } from '../engine/rampart.js';
import { namedClientKey } from '../engine/store-keys.js';
import type { TargetRule } from '../engine/target-rules.js';
import { safeStoreKey } from '../protection/rate-limit.service.js';
import { withTimeout } from '../protection/store-health.js';
import type { AdminAdaptiveView } from './dto/adaptive-view.dto.js';

/** Longest wait for a cached plan lookup still under way. */
const LOOKUP_WAIT_MS = 1_000;

/**
 * A client's standing under each adaptive rule it has a state for: the state this instance holds,
 * or else the stored one (one read per rule), brought to now. A rule with dynamic limits is read
 * by the limits its `limitsCache` holds for the client (the plan's limit and window, the key its
 * state has under that window); without a fresh cached answer (no cache, a cache by its own `key`,
 * or none for this client), by the rule's own values, its fallback: a client counted under another
 * window then shows no state, and `baseLimit` is the fallback's.
 */
export async function adaptiveViews(rampart: Rampart<never>, named: string, rules: readonly TargetRule<never>[]): Promise<AdminAdaptiveView[]> {
  const key = namedClientKey(named);
  const nowMs = rampart.engine.clock.now();
  const adaptive = rules.filter((r) => r.rule.adaptive !== undefined);
  const views = await Promise.all(
    adaptive.map(async (target) => {
      const { rule } = target;
      const cached = rule.dynamic && cachedLimits(rule.dynamic, key, nowMs);
      // A lookup still under way is waited for briefly: a hanging plan lookup never holds the view.
      const limits = (cached && (await withTimeout(() => Promise.resolve(cached), LOOKUP_WAIT_MS).catch(() => undefined))) ?? rule.storeRule;
      return rampart.adaptive.view(windowedKey(safeStoreKey(rampart.engine, target, key), limits, rule), rule.adaptive!, limits, nowMs);
    }),
  );
  const out: AdminAdaptiveView[] = [];
  views.forEach((view, i) => {
    if (view === undefined) return;
    const { intervalStartMs, ...figures } = view;
    out.push({ rule: adaptive[i]!.rule.name, route: adaptive[i]!.countsPer, ...figures, intervalStart: new Date(intervalStartMs).toISOString() });
  });
  return out;
}
