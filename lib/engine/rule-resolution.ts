import { ALGORITHM_NAMES } from '../core/algorithms/index.js';
import { ruleCapacity, type AlgorithmName } from '../core/algorithms/algorithm.interface.js';
import { DEFAULT_ESCALATION_POLICY, ESCALATION_POLICY_FIELDS, mergeEscalationPolicy, type EscalationPolicy } from '../core/escalation.js';
import { validateIpv6PrefixLength } from '../core/ip/client-key.js';
import type { StoreRule } from '../core/rule-decision.js';
import * as messages from '../errors/messages.js';
import type { AdaptiveSettings } from '../adaptive/adaptive-math.js';
import { resolveAdaptive } from '../adaptive/adaptive-options.js';
import { checkRuleGroups } from './groups.js';
import { checkOutcomeRule, type CountIf } from '../outcome/request-outcome.js';
import { splitDynamicLimits, type DynamicLimits } from './dynamic-limits.js';
import type { ClientKeyResolver, RateLimitRule, StoreErrorPolicy, ThrottleRule } from './rule.interface.js';

/** A rule with its defaults applied, checked, ready for the engine. */
export interface ResolvedRule<C = unknown> {
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly algorithm: AlgorithmName;
  readonly burst?: number;
  readonly blockDurationMs: number;
  readonly cost: number | ((context: C) => number | Promise<number>);
  readonly keyResolver?: ClientKeyResolver<C>;
  readonly scope?: string;
  readonly skipIf?: (context: C) => boolean | Promise<boolean>;
  /** The prefix length IPv6 clients are counted by under this rule; the module's when absent. */
  readonly ipv6PrefixLength?: number;
  /** The rule's own escalation settings, checked but not yet merged (see `ruleEscalation`). */
  readonly escalation?: Partial<EscalationPolicy> | false;
  /** The rule's own store-outage policy; the module's applies when absent. */
  readonly onStoreError?: StoreErrorPolicy;
  /** Counted and reported, never enforced. */
  readonly shadow?: true;
  /**
   * What the rule's store keys start with, in place of its name: a configuration file's rule whose
   * algorithm is not the default carries it (`api~token-bucket`), so that a reload that changes the
   * algorithm starts it afresh instead of reading another algorithm's state.
   */
  readonly keyName?: string;
  /** The groups whose clients this rule counts; absent: every group no other rule of its list names. */
  readonly groups?: readonly string[];
  /** Which outcomes the rule counts (the others give their units back); every one when absent. */
  readonly countIf?: CountIf<C>;
  /** An outcome `countIf` does not count resets the client's count under the rule. */
  readonly consecutive?: true;
  /** How long a request refused by units requests in flight hold waits for them (`countIf`). */
  readonly waitMs?: number;
  /** The rule's adaptive limit (see `RateLimitRule.adaptive`): each client's limit follows its trust. */
  readonly adaptive?: AdaptiveSettings;
  /** Limits that are functions of the request (see `requestLimits`); `limit`, `windowMs` and `burst` then hold their fallbacks. */
  readonly dynamic?: DynamicLimits<C>;
  /**
   * What the store receives (the fallback values of dynamic limits). A rule that counts outcomes
   * reserves without its block (`blockDurationMs` 0): see `blockRule`.
   */
  readonly storeRule: StoreRule;
  /**
   * The store rule with the rule's block, for a rule with `countIf` and `blockDurationMs`: its block
   * starts only on a request refused once counted outcomes alone fill the limit (see `judgeOutcomeDenial`).
   */
  readonly blockRule?: StoreRule;
}

export const STORE_ERROR_POLICIES: readonly unknown[] = ['allow', 'deny'];

export const DEFAULT_RULE: RateLimitRule = Object.freeze({
  name: 'default',
  limit: 100,
  windowMs: 60_000,
  algorithm: 'sliding-window',
});

export const isPositiveInteger = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isNonNegativeInteger = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Checks a complete rule and fills in its defaults. Problems are appended to `problems`; the
 * returned rule is only meaningful when none were added.
 */
export function resolveRule<C>(given: ThrottleRule<C>, path: string, problems: string[]): ResolvedRule<C> {
  const { rule, dynamic } = splitDynamicLimits(given, path, problems);
  const name = rule.name ?? 'default';
  if (typeof name !== 'string' || !messages.RULE_NAME_PATTERN.test(name)) problems.push(messages.badRuleName(`${path}.name`, name));
  if (!isPositiveInteger(rule.limit)) problems.push(messages.notPositiveInteger(`${path}.limit`, rule.limit));
  if (!isPositiveInteger(rule.windowMs)) problems.push(messages.notPositiveInteger(`${path}.windowMs`, rule.windowMs));
  const algorithm = rule.algorithm ?? 'sliding-window';
  if (!ALGORITHM_NAMES.includes(algorithm)) problems.push(messages.unknownAlgorithm(`${path}.algorithm`, algorithm, ALGORITHM_NAMES));
  if (rule.burst !== undefined && !isPositiveInteger(rule.burst)) problems.push(messages.burstBelowOne(`${path}.burst`, rule.burst));
  const blockDurationMs = rule.blockDurationMs ?? 0;
  if (!isNonNegativeInteger(blockDurationMs)) problems.push(messages.notNonNegativeInteger(`${path}.blockDurationMs`, blockDurationMs));
  const cost = rule.cost ?? 1;
  if (typeof cost === 'number') {
    if (!isPositiveInteger(cost)) problems.push(messages.notPositiveInteger(`${path}.cost`, cost));
    else {
      const capacity = ruleCapacity({ algorithm, limit: rule.limit as number, ...(rule.burst !== undefined ? { burst: rule.burst } : {}) });
      if (isPositiveInteger(capacity) && cost > capacity) problems.push(messages.costAboveCapacity(`${path}.cost`, cost, capacity));
    }
  } else if (typeof cost !== 'function') problems.push(messages.notAFunction(`${path}.cost`, cost));
  for (const fn of ['keyResolver', 'skipIf'] as const) {
    if (rule[fn] !== undefined && typeof rule[fn] !== 'function') problems.push(messages.notAFunction(`${path}.${fn}`, rule[fn]));
  }
  if (rule.scope !== undefined && (typeof rule.scope !== 'string' || rule.scope.length === 0 || rule.scope.length > 128)) {
    problems.push(messages.badScope(`${path}.scope`, rule.scope));
  }
  if (rule.ipv6PrefixLength !== undefined) {
    const problem = validateIpv6PrefixLength(rule.ipv6PrefixLength, `${path}.ipv6PrefixLength`);
    if (problem) problems.push(problem);
    if (rule.keyResolver !== undefined) problems.push(messages.prefixWithResolver(path));
  }
  checkEscalation(rule.escalation, `${path}.escalation`, problems);
  if (rule.onStoreError !== undefined && !STORE_ERROR_POLICIES.includes(rule.onStoreError)) {
    problems.push(messages.badStoreErrorPolicy(`${path}.onStoreError`, rule.onStoreError));
  }
  if (rule.shadow !== undefined && typeof rule.shadow !== 'boolean') problems.push(messages.badBoolean(`${path}.shadow`, rule.shadow));
  const groups = checkRuleGroups(rule.groups, path, problems);
  checkOutcomeRule(rule, path, problems, dynamic !== undefined || (rule.adaptive !== undefined && rule.adaptive !== false));
  const adaptive = resolveAdaptive(
    rule.adaptive,
    { limit: rule.limit as number, windowMs: rule.windowMs as number, ...(typeof cost === 'number' ? { cost } : {}) },
    `${path}.adaptive`,
    problems,
  );
  const storeRule: StoreRule = Object.freeze({
    name,
    algorithm,
    limit: rule.limit as number,
    windowMs: rule.windowMs as number,
    ...(rule.burst !== undefined ? { burst: rule.burst } : {}),
    blockDurationMs: rule.countIf === undefined ? blockDurationMs : 0,
  });
  const blockRule = rule.countIf !== undefined && blockDurationMs > 0 ? Object.freeze({ ...storeRule, blockDurationMs }) : undefined;
  return Object.freeze({
    name,
    limit: rule.limit as number,
    windowMs: rule.windowMs as number,
    algorithm,
    ...(rule.burst !== undefined ? { burst: rule.burst } : {}),
    blockDurationMs,
    cost,
    ...(rule.keyResolver ? { keyResolver: rule.keyResolver } : {}),
    ...(rule.scope !== undefined ? { scope: rule.scope } : {}),
    ...(rule.skipIf ? { skipIf: rule.skipIf } : {}),
    ...(rule.ipv6PrefixLength !== undefined ? { ipv6PrefixLength: rule.ipv6PrefixLength } : {}),
    ...(rule.escalation !== undefined ? { escalation: rule.escalation } : {}),
    ...(rule.onStoreError !== undefined ? { onStoreError: rule.onStoreError } : {}),
    ...(rule.shadow === true ? { shadow: true as const } : {}),
    ...(groups !== undefined ? { groups } : {}),
    ...(rule.countIf !== undefined ? { countIf: rule.countIf } : {}),
    ...(rule.consecutive === true ? { consecutive: true as const } : {}),
    ...(rule.countIf !== undefined && typeof rule.waitMs === 'number' && rule.waitMs > 0 ? { waitMs: rule.waitMs } : {}),
    ...(adaptive !== undefined ? { adaptive } : {}),
    ...(dynamic !== undefined ? { dynamic } : {}),
    storeRule,
    ...(blockRule !== undefined ? { blockRule } : {}),
  });
}

const mergedRuleEscalation = new WeakMap<ResolvedRule<never>, EscalationPolicy>();

/**
 * The escalation policy of `rule`'s violations: the module's, or the rule's own settings merged
 * over it (over the defaults when the module's escalation is off); false when off for the rule.
 */
export function ruleEscalation(config: { readonly escalation: EscalationPolicy | false }, rule: ResolvedRule<never>): EscalationPolicy | false {
  const override = rule.escalation;
  if (override === undefined) return config.escalation;
  if (override === false) return false;
  let merged = mergedRuleEscalation.get(rule);
  if (!merged) {
    merged = mergeEscalationPolicy(config.escalation || DEFAULT_ESCALATION_POLICY, override);
    mergedRuleEscalation.set(rule, merged);
  }
  return merged;
}

const isFiniteAtLeastOne = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 1;

/** Checks escalation settings as given (a partial policy or false); problems are appended. */
export function checkEscalation(value: unknown, path: string, problems: string[]): void {
  if (value === undefined || value === false) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(messages.badEscalation(path, value));
    return;
  }
  const given = value as Record<string, unknown>;
  for (const field of Object.keys(given)) {
    if (!(ESCALATION_POLICY_FIELDS as readonly string[]).includes(field)) problems.push(messages.unknownEscalationField(path, field, ESCALATION_POLICY_FIELDS));
  }
  const checks: [keyof EscalationPolicy, (v: unknown) => boolean, (p: string, v: unknown) => string][] = [
    ['blockAfterViolations', isPositiveInteger, messages.notPositiveInteger],
    ['blockDurationMs', isPositiveInteger, messages.notPositiveInteger],
    ['blockMultiplier', isFiniteAtLeastOne, messages.badMultiplier],
    ['maxBlockDurationMs', isPositiveInteger, messages.notPositiveInteger],
    ['permanentBanAfter', isNonNegativeInteger, messages.notNonNegativeCount],
    ['permanentBanWindowMs', isPositiveInteger, messages.notPositiveInteger],
  ];
  for (const [field, valid, message] of checks) {
    if (given[field] !== undefined && !valid(given[field])) problems.push(message(`${path}.${field}`, given[field]));
  }
}

/** Checks a complete policy against itself and the retention period. */
export function checkMergedEscalation(policy: EscalationPolicy, path: string, retentionMs: number, problems: string[]): void {
  if (policy.maxBlockDurationMs < policy.blockDurationMs) problems.push(messages.maxBlockBelowBlock(path, policy.maxBlockDurationMs, policy.blockDurationMs));
  if (policy.permanentBanWindowMs > retentionMs) problems.push(messages.retentionBelowBanWindow(path, policy.permanentBanWindowMs, retentionMs));
}

/** Reports two rules of one list that share a name. */
export function checkUniqueNames(rules: readonly { name?: string }[], path: string, problems: string[]): void {
  const seen = new Set<string>();
  for (const rule of rules) {
    const name = rule.name ?? 'default';
    if (seen.has(name)) problems.push(messages.duplicateRuleName(path, name));
    seen.add(name);
  }
}
