import { isObject } from '../core/option-objects.js';
import { isThenable } from '../core/thenable.js';
import type { TargetRules } from './target-rules.js';
import * as messages from '../errors/messages.js';
import * as policyMessages from '../errors/policy-messages.js';

/**
 * Decides which group a client belongs to (a plan, a role: `admin`, `partner`...), from the request,
 * JWT claims or the session. Rules with `groups` count only the clients of those groups; a group can
 * be `unlimited`. Return `undefined` (or anything that is not a group name) for the `default` group.
 * `address` is the client address as Rampart resolved it (see `ClientKeyResolver`), null when unknown.
 */
export type GroupResolver<C = unknown> = (context: C, address: string | null) => string | undefined | Promise<string | undefined>;

/** Settings of one group (the `groups` option). */
export interface GroupOptions {
  /**
   * No rule counts the clients of this group: they are never limited. Bans, blocks and the
   * deny-list still apply to them.
   * @default false
   */
  unlimited?: boolean;
}

/** The group of a client for whom no group is known. */
export const DEFAULT_GROUP = 'default';

/** What the engine keeps of the group options. */
export interface GroupsConfig<C> {
  readonly groupResolver?: GroupResolver<C>;
  /** Groups no rule counts. */
  readonly unlimitedGroups: ReadonlySet<string>;
}

const isGroupName = (value: unknown): value is string => typeof value === 'string' && messages.RULE_NAME_PATTERN.test(value);

/**
 * The group a resolver's answer names: a group name as it is, anything else (nothing, an empty
 * string, text that is no group name, an array from parsed request data) the default group.
 */
export function groupText(value: unknown): string {
  return isGroupName(value) ? value : DEFAULT_GROUP;
}

/** Checks `groupResolver` and `groups`; problems are appended. */
export function checkGroups<C>(options: { readonly groupResolver?: unknown; readonly groups?: unknown }, problems: string[]): GroupsConfig<C> {
  const { groupResolver, groups } = options;
  if (groupResolver !== undefined && typeof groupResolver !== 'function') problems.push(messages.notAFunction('groupResolver', groupResolver));
  const unlimitedGroups = new Set<string>();
  if (groups !== undefined) {
    if (!isObject(groups)) problems.push(policyMessages.badGroups(groups));
    else {
      for (const [name, settings] of Object.entries(groups)) {
        if (!isGroupName(name)) problems.push(policyMessages.badGroupName(`groups`, name));
        if (!isObject(settings)) {
          problems.push(policyMessages.badGroupSettings(`groups.${name}`, settings));
          continue;
        }
        for (const field of Object.keys(settings)) if (field !== 'unlimited') problems.push(messages.unknownOption(`groups.${name}`, field, ['unlimited']));
        if (settings.unlimited !== undefined && typeof settings.unlimited !== 'boolean')
          problems.push(messages.badBoolean(`groups.${name}.unlimited`, settings.unlimited));
        if (settings.unlimited === true) unlimitedGroups.add(name);
      }
    }
  }
  return {
    ...(typeof groupResolver === 'function' ? { groupResolver: groupResolver as GroupResolver<C> } : {}),
    unlimitedGroups,
  };
}

/** Checks a rule's `groups`: a non-empty list of group names. */
export function checkRuleGroups(value: unknown, path: string, problems: string[]): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every(isGroupName)) {
    problems.push(policyMessages.badRuleGroups(path, value));
    return undefined;
  }
  return Object.freeze([...new Set(value as string[])]);
}

/**
 * A request's group: the one its adapter gave, else the `groupResolver`'s answer (see `groupText`),
 * asked only when a rule of the target counts some groups only or a group is unlimited; `default`
 * otherwise. Synchronous unless the resolver returns a promise.
 */
export function clientGroup<C>(
  config: GroupsConfig<C>,
  request: { readonly group?: string; readonly context?: C },
  rules: TargetRules<C>,
  address: string | null,
): string | Promise<string> {
  if (request.group !== undefined) return groupText(request.group);
  const { groupResolver } = config;
  const needed = rules.rules.length > 0 && (rules.grouped || rules.unlimitedGroups !== undefined || config.unlimitedGroups.size > 0);
  if (groupResolver === undefined || !needed) return DEFAULT_GROUP;
  const group = groupResolver(request.context as C, address);
  return isThenable(group) ? Promise.resolve(group).then(groupText) : groupText(group);
}

/** Whether no rule counts the decision's client: its group is unlimited for the module, or on its target. */
export function isUnlimited<C>(config: GroupsConfig<C>, { group, rules }: { readonly group: string; readonly rules: TargetRules<C> }): boolean {
  return config.unlimitedGroups.has(group) || rules.unlimitedGroups?.has(group) === true;
}
