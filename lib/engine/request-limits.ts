import type { RampartLogger } from '../core/logger.js';
import type { StoreRule } from '../core/rule-decision.js';
import type { Decision } from './decision.js';
import { dynamicStoreRule } from './dynamic-limits.js';
import type { ResolvedRule } from './rule-resolution.js';
import type { TargetRule } from './target-rules.js';

/**
 * The one place where the engine chooses the limits a rule counts one request by: the rule's own
 * `storeRule`, or what varies per request (its dynamic limits: a plan looked up by API key).
 *
 * Called once per request and rule, before the cost is capped and the store is asked, and only for
 * rules that `variesPerRequest`: their targets leave the plain path, and every other rule is counted
 * by its `storeRule` without coming here, at no cost. Whatever it returns must be a valid store rule
 * (positive safe integers): a failure answers the rule's own `storeRule`, never an unlimited pass.
 */
export function requestLimits<C>(decision: Decision<C>, targetRule: TargetRule<C>, clientKey: string, logger: RampartLogger): StoreRule | Promise<StoreRule> {
  const { rule } = targetRule;
  if (rule.dynamic === undefined) return rule.storeRule;
  return dynamicStoreRule(rule, rule.dynamic, decision.request.context as C, clientKey, decision.nowMs, logger);
}

/** Whether a rule's limits may differ from one request to the next (see `requestLimits`): its target is not plain. */
export function variesPerRequest(rule: ResolvedRule<never>): boolean {
  return rule.dynamic !== undefined;
}

/**
 * The store key a request is counted under by `limits`: `key` itself when its window is the rule's
 * own, else `~<windowMs>ms:<key>`. Each window length has its own counter, because an algorithm's
 * state only means something under the window it was counted with (a token bucket keeps its tokens
 * in units of the window); `~` starts no other key (rule names cannot contain it).
 */
export function windowedKey(key: string, limits: StoreRule, rule: ResolvedRule<never>): string {
  return limits.windowMs === rule.storeRule.windowMs ? key : `~${limits.windowMs}ms:${key}`;
}
