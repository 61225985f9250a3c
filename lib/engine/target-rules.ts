import type { ResolvedRule } from './rule-resolution.js';
import { variesPerRequest } from './request-limits.js';
import { StoreKeys } from './store-keys.js';

/** One rule as it counts on one target. */
export interface TargetRule<C = unknown> {
  readonly rule: ResolvedRule<C>;
  /** What the rule counts per here: its `scope`, or the target. */
  readonly countsPer: string;
  /** `<rule>:<scope or target>:`; the client key is appended (see StoreKeys). */
  readonly keyPrefix: string;
  /** The rule's own `shadow`: counted and reported, never enforced (the module's `shadow` puts every rule in shadow mode). */
  readonly shadow: boolean;
  /** The only groups the rule counts here (its `groups`). */
  readonly groups?: ReadonlySet<string>;
  /** The groups the rule does not count here: those another rule of the list names (a rule without `groups`). */
  readonly otherGroups?: ReadonlySet<string>;
}

/** The rules that apply to one target (a route, a gateway message, a resolver field, a queue...). */
export interface TargetRules<C = unknown> {
  /** What a rule without `scope` counts per: `Controller.handler` for a Nest route. */
  readonly target: string;
  readonly rules: readonly TargetRule<C>[];
  /**
   * Whether every rule counts the request's client at a fixed cost, unconditionally (no `skipIf`,
   * `keyResolver`, own `ipv6PrefixLength` or cost function): such a target needs nothing but the
   * store per request.
   */
  readonly plain: boolean;
  /** Whether a rule's limits may differ per request (dynamic or adaptive limits): its `RateLimit-Policy` is not cached. */
  readonly varying?: true;
  /** Whether a rule has its own `shadow`. */
  readonly shadowed: boolean;
  /** Whether a rule counts some groups only: the client's group is needed. */
  readonly grouped: boolean;
  /** Groups no rule counts on this target (a configuration file's route entry), besides the module's unlimited groups. */
  readonly unlimitedGroups?: ReadonlySet<string>;
  /** Every rule is skipped here (`@SkipThrottle()`): a configuration file's route entry does not count it either. */
  readonly skipped?: true;
  /** A rule counts some outcomes only (`countIf`): an admitted request is settled once its outcome is known. */
  readonly outcomes?: true;
  /** Nothing is checked or counted on this target, not even bans (the admin API). */
  readonly exempt?: true;
}

/** A target where nothing is checked or counted, not even bans and lists (the admin API). */
export function exemptTarget<C>(target: string): TargetRules<C> {
  return Object.freeze({ target, rules: Object.freeze([]), plain: true, shadowed: false, grouped: false, exempt: true });
}

/** Whether `targetRule` counts clients of `group`. */
export function countsGroup<C>(targetRule: TargetRule<C>, group: string): boolean {
  return targetRule.groups ? targetRule.groups.has(group) : !targetRule.otherGroups?.has(group);
}

/**
 * The rules of `target`, each with its key prefix and the groups it counts.
 *
 * @param unlimitedGroups groups no rule counts on this target
 */
export function targetRules<C>(target: string, rules: readonly ResolvedRule<C>[], unlimitedGroups?: ReadonlySet<string>): TargetRules<C> {
  const named = new Set([...rules.flatMap((rule) => rule.groups ?? []), ...(unlimitedGroups ?? [])]);
  const counted = rules.map((rule) => {
    const countsPer = rule.scope ?? target;
    return Object.freeze({
      rule,
      countsPer,
      keyPrefix: StoreKeys.prefix(rule.keyName ?? rule.name, countsPer),
      shadow: rule.shadow === true,
      ...(rule.groups ? { groups: new Set(rule.groups) } : named.size > 0 ? { otherGroups: named } : {}),
    });
  });
  const grouped = named.size > 0;
  const dynamic = rules.some(variesPerRequest);
  // An adaptive rule stays plain, but the limit its headers advertise is each client's own.
  const varying = dynamic || rules.some((rule) => rule.adaptive !== undefined);
  const plain =
    !grouped && !dynamic && rules.every((rule) => !rule.skipIf && !rule.keyResolver && rule.ipv6PrefixLength === undefined && typeof rule.cost === 'number');
  return Object.freeze({
    target,
    rules: Object.freeze(counted),
    plain,
    shadowed: counted.some((r) => r.shadow),
    grouped,
    ...(varying ? { varying: true as const } : {}),
    ...(unlimitedGroups && unlimitedGroups.size > 0 ? { unlimitedGroups } : {}),
    ...(rules.some((rule) => rule.countIf !== undefined) ? { outcomes: true as const } : {}),
  });
}
