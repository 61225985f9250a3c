import { givenAdaptive } from '../adaptive/adaptive-options.js';
import { isThenable } from '../core/thenable.js';
import { FIELDS, type Field } from './dynamic-limits.js';
import type { ResolvedRule } from './rule-resolution.js';
import type { RequestLimits, RequestValue, ThrottleRule } from './rule.interface.js';

/**
 * A resolved rule as it was given: functions in place of their fallbacks, and its `adaptive`
 * option as given (resolved again with the fields an override changes, its `intervalMs` defaulting
 * to the merged rule's window).
 */
export function givenRule<C>(rule: ResolvedRule<C>): ThrottleRule<C> {
  const { storeRule: _store, blockRule: _block, keyName: _key, dynamic, adaptive, ...rest } = rule;
  const fields: ThrottleRule<C> = adaptive === undefined ? rest : { ...rest, adaptive: givenAdaptive(adaptive) };
  if (dynamic === undefined) return fields;
  const { functions, limits, fallback, limitsCache } = dynamic;
  return { ...fields, ...functions, ...(limits ? { limits } : {}), ...(fallback ? { fallback } : {}), ...(limitsCache ? { limitsCache } : {}) };
}

/**
 * What a `@Throttle` or route entry `override` gives merged over the rule of its name, `base`: the
 * override's fields win. Over dynamic limits, a number the override gives for `limit`, `windowMs` or
 * `burst` replaces that field's function, or pins that field of the base's `limits` answers (the
 * plan decides the others; numbers for all three drop `limits`), and a `limitsCache` is dropped
 * with the last function, unless the override gives one.
 */
export function overriddenRule<C>(base: ResolvedRule<C> | undefined, override: ThrottleRule<C>): ThrottleRule<C> {
  if (base === undefined) return override;
  const merged: Record<string, unknown> = { ...givenRule(base), ...override };
  const limits = base.dynamic?.limits;
  if (limits !== undefined && !('limits' in override)) {
    const pins: Partial<Record<Field, number>> = {};
    for (const field of FIELDS) if (typeof override[field] === 'number') pins[field] = override[field];
    const pinned = Object.keys(pins).length;
    if (pinned === FIELDS.length) delete merged['limits'];
    else if (pinned > 0) merged['limits'] = pinnedLimits(limits, pins);
  }
  const functions = merged['limits'] !== undefined || FIELDS.some((field) => typeof merged[field] === 'function');
  if (!functions && !('limitsCache' in override)) delete merged['limitsCache'];
  return merged as ThrottleRule<C>;
}

/** `limits` with the `pins` in place of the fields of its answers (an answer that is no object is left to be refused). */
function pinnedLimits<C>(limits: RequestValue<C, RequestLimits>, pins: Partial<Record<Field, number>>): RequestValue<C, RequestLimits> {
  const pin = (answer: RequestLimits): RequestLimits =>
    typeof answer === 'object' && answer !== null && !Array.isArray(answer) ? { ...answer, ...pins } : answer;
  return (context) => {
    const answer = limits(context);
    return isThenable(answer) ? Promise.resolve(answer).then(pin) : pin(answer);
  };
}
