import type { ExecutionContext } from '@nestjs/common';
import { checkAdminApiKeys } from './admin/admin-settings.js';
import { ALGORITHM_NAMES } from './core/algorithms/index.js';
import type { AlgorithmName } from './core/algorithms/algorithm.interface.js';
import { systemClock, type Clock } from './core/clock.js';
import { DEFAULT_ESCALATION_POLICY, ESCALATION_POLICY_FIELDS, mergeEscalationPolicy, type EscalationPolicy } from './core/escalation.js';
import { compileTrustProxy, type CompiledTrust } from './core/ip/trust-proxy.js';
import { validateIpv6PrefixLength } from './core/ip/client-key.js';
import type { StoreRule } from './core/rule-decision.js';
import * as messages from './errors/messages.js';
import { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
import type { RateLimitEventHandlers } from './events/rate-limit-events.js';
import type { RateLimitModuleOptions, RateLimitViolation } from './rate-limit-options.interface.js';
import type { ClientKeyResolver, RateLimitRule, StoreErrorPolicy, ThrottleRule } from './rate-limit-rule.interface.js';
import { memoryStorage } from './storage/memory-storage.js';
import type { RampartStorage } from './storage/rampart-storage.interface.js';
import type { RateLimitStore } from './storage/rate-limit-store.interface.js';

/** A rule with its defaults applied, checked, ready for the guard. */
export interface ResolvedRule {
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly algorithm: AlgorithmName;
  readonly burst?: number;
  readonly blockDurationMs: number;
  readonly cost: number | ((context: ExecutionContext) => number | Promise<number>);
  readonly keyResolver?: ClientKeyResolver;
  readonly scope?: string;
  readonly skipIf?: (context: ExecutionContext) => boolean | Promise<boolean>;
  /** The rule's own escalation settings, checked but not yet merged (see `ruleEscalation`). */
  readonly escalation?: Partial<EscalationPolicy> | false;
  /** The rule's own store-outage policy; the module's applies when absent. */
  readonly onStoreError?: StoreErrorPolicy;
  /** What the store receives. */
  readonly storeRule: StoreRule;
}

/** The validated configuration the guard runs on (the public options are kept apart from it). */
export interface RateLimitConfig {
  readonly rules: readonly ResolvedRule[];
  /** Counters: the `store` option, or `storage.rateLimits`. */
  readonly store: RateLimitStore;
  /** Bans, violations and allow/deny lists (and, unless `store` overrides it, counters). */
  readonly storage: RampartStorage;
  /** The module's escalation policy, defaults filled in; false when off. */
  readonly escalation: EscalationPolicy | false;
  readonly violationRetentionMs: number;
  readonly banSyncIntervalMs: number;
  /** Longest wait for a rate-limit store call on a request. */
  readonly storeTimeoutMs: number;
  /** What rules without their own `onStoreError` answer while the store is down. */
  readonly onStoreError: StoreErrorPolicy;
  /** Count in an in-process memory store while the store is down. */
  readonly storeFallback: boolean;
  /** Pause between two probes of a store that is down. */
  readonly storeProbeIntervalMs: number;
  /** How long startup waits for the storage to be ready. */
  readonly storeStartupTimeoutMs: number;
  /** Whether startup fails when the storage is not ready in time. */
  readonly requireStore: boolean;
  readonly events?: RateLimitEventHandlers;
  readonly keyResolver?: ClientKeyResolver;
  readonly trust: CompiledTrust | null;
  readonly ipv6PrefixLength: number;
  readonly standardHeaders: boolean;
  readonly legacyHeaders: boolean;
  readonly skipIf?: (context: ExecutionContext) => boolean | Promise<boolean>;
  readonly clock: Clock;
  readonly errorMessage?: string | ((violation: RateLimitViolation) => string);
  /** SHA-256 digests of the `adminApiKey` keys; absent when none is set. */
  readonly adminApiKeyDigests?: readonly Buffer[];
}

/** Violation history is kept 30 days unless `violationRetentionMs` says otherwise. */
export const DEFAULT_VIOLATION_RETENTION_MS = 30 * 86_400_000;
/** Each instance fetches ban and list changes every second unless `banSyncIntervalMs` says otherwise. */
export const DEFAULT_BAN_SYNC_INTERVAL_MS = 1_000;
/** A rate-limit store call on a request waits at most this long unless `storeTimeoutMs` says otherwise. */
export const DEFAULT_STORE_TIMEOUT_MS = 500;
/** A store that is down is probed this often unless `storeProbeIntervalMs` says otherwise. */
export const DEFAULT_STORE_PROBE_INTERVAL_MS = 250;
/** Startup waits at most this long for the storage unless `storeStartupTimeoutMs` says otherwise. */
export const DEFAULT_STORE_STARTUP_TIMEOUT_MS = 5_000;

const STORE_ERROR_POLICIES: readonly unknown[] = ['allow', 'deny'];

export const DEFAULT_RULE: RateLimitRule = Object.freeze({
  name: 'default',
  limit: 100,
  windowMs: 60_000,
  algorithm: 'sliding-window',
});

const isPositiveInteger = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isNonNegativeInteger = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Checks a complete rule and fills in its defaults. Problems are appended to `problems`; the
 * returned rule is only meaningful when none were added.
 */
export function resolveRule(rule: ThrottleRule, path: string, problems: string[]): ResolvedRule {
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
      const capacity = algorithm === 'token-bucket' || algorithm === 'gcra' ? (rule.burst ?? rule.limit) : rule.limit;
      if (isPositiveInteger(capacity) && cost > capacity) problems.push(messages.costAboveCapacity(`${path}.cost`, cost, capacity));
    }
  } else if (typeof cost !== 'function') problems.push(messages.notAFunction(`${path}.cost`, cost));
  for (const fn of ['keyResolver', 'skipIf'] as const) {
    if (rule[fn] !== undefined && typeof rule[fn] !== 'function') problems.push(messages.notAFunction(`${path}.${fn}`, rule[fn]));
  }
  if (rule.scope !== undefined && (typeof rule.scope !== 'string' || rule.scope.length === 0 || rule.scope.length > 128)) {
    problems.push(messages.badScope(`${path}.scope`, rule.scope));
  }
  checkEscalation(rule.escalation, `${path}.escalation`, problems);
  if (rule.onStoreError !== undefined && !STORE_ERROR_POLICIES.includes(rule.onStoreError)) {
    problems.push(messages.badStoreErrorPolicy(`${path}.onStoreError`, rule.onStoreError));
  }
  const storeRule: StoreRule = Object.freeze({
    name,
    algorithm,
    limit: rule.limit as number,
    windowMs: rule.windowMs as number,
    ...(rule.burst !== undefined ? { burst: rule.burst } : {}),
    blockDurationMs,
  });
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
    ...(rule.escalation !== undefined ? { escalation: rule.escalation } : {}),
    ...(rule.onStoreError !== undefined ? { onStoreError: rule.onStoreError } : {}),
    storeRule,
  });
}

const mergedRuleEscalation = new WeakMap<ResolvedRule, EscalationPolicy>();

/**
 * The escalation policy of `rule`'s violations: the module's, or the rule's own settings merged
 * over it (over the defaults when the module's escalation is off); false when off for the rule.
 */
export function ruleEscalation(config: Pick<RateLimitConfig, 'escalation'>, rule: ResolvedRule): EscalationPolicy | false {
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
function checkMergedEscalation(policy: EscalationPolicy, path: string, retentionMs: number, problems: string[]): void {
  if (policy.maxBlockDurationMs < policy.blockDurationMs) problems.push(messages.maxBlockBelowBlock(path, policy.maxBlockDurationMs, policy.blockDurationMs));
  if (policy.permanentBanWindowMs > retentionMs) problems.push(messages.retentionBelowBanWindow(path, policy.permanentBanWindowMs, retentionMs));
}

const STORE_METHODS: Record<Exclude<keyof RampartStorage, 'init' | 'close'>, readonly string[]> = {
  rateLimits: ['consume', 'get', 'reset'],
  bans: ['put', 'lift', 'get', 'list', 'changedSince', 'remove'],
  violations: ['record', 'list', 'count', 'deleteByKey', 'purge'],
  accessList: ['put', 'remove', 'list', 'changedSince'],
};

/** What a storage lacks, as `bans.changedSince`-style paths (`rateLimits` is skipped when `store` replaces it). */
function missingStorageParts(storage: unknown, withRateLimits: boolean): string[] {
  if (typeof storage !== 'object' || storage === null) return Object.keys(STORE_METHODS);
  const missing: string[] = [];
  for (const [part, methods] of Object.entries(STORE_METHODS)) {
    if (part === 'rateLimits' && !withRateLimits) continue;
    const store = (storage as Record<string, unknown>)[part] as Record<string, unknown> | undefined;
    for (const method of methods) {
      if (typeof store?.[method] !== 'function') missing.push(`${part}.${method}()`);
    }
  }
  for (const hook of ['init', 'close']) {
    const fn = (storage as Record<string, unknown>)[hook];
    if (fn !== undefined && typeof fn !== 'function') missing.push(`${hook}()`);
  }
  return missing;
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

/** Validates the module options once, at startup, into one error that lists every problem. */
export function resolveRateLimitConfig(options: RateLimitModuleOptions = {}): RateLimitConfig {
  const problems: string[] = [];
  const given = options.rules === undefined ? [DEFAULT_RULE] : Array.isArray(options.rules) ? options.rules : [options.rules];
  const rules = given.map((rule, i) => resolveRule(rule ?? {}, `rules[${i}]`, problems));
  checkUniqueNames(given, 'rules', problems);

  const violationRetentionMs = options.violationRetentionMs ?? DEFAULT_VIOLATION_RETENTION_MS;
  if (!isPositiveInteger(violationRetentionMs)) problems.push(messages.notPositiveInteger('violationRetentionMs', violationRetentionMs));
  const storage =
    options.storage ??
    memoryStorage({
      ...(options.memoryStore !== undefined ? { rateLimits: options.memoryStore } : {}),
      ...(isPositiveInteger(violationRetentionMs) ? { violations: { retentionMs: violationRetentionMs } } : {}),
    });
  const missing = missingStorageParts(storage, options.store === undefined);
  if (missing.length > 0) problems.push(messages.badStorage(options.storage, missing));
  const store = options.store ?? storage?.rateLimits;
  const candidate = (store ?? {}) as Partial<RateLimitStore>;
  if (options.store !== undefined && (typeof candidate.consume !== 'function' || typeof candidate.get !== 'function' || typeof candidate.reset !== 'function')) {
    problems.push(messages.badStore(options.store));
  }
  const { trust, problems: trustProblems } = compileTrustProxy(options.trustProxy);
  problems.push(...trustProblems);
  const ipv6PrefixLength = options.ipv6PrefixLength ?? 64;
  const prefixProblem = validateIpv6PrefixLength(ipv6PrefixLength);
  if (prefixProblem) problems.push(prefixProblem);
  for (const flag of ['standardHeaders', 'legacyHeaders'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') problems.push(messages.badBoolean(flag, options[flag]));
  }
  for (const fn of ['keyResolver', 'skipIf'] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') problems.push(messages.notAFunction(fn, options[fn]));
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') problems.push(messages.badClock(options.clock));
  const { errorMessage } = options;
  if (errorMessage !== undefined && typeof errorMessage !== 'string' && typeof errorMessage !== 'function') {
    problems.push(messages.badErrorMessage(errorMessage));
  }
  const banSyncIntervalMs = options.banSyncIntervalMs ?? DEFAULT_BAN_SYNC_INTERVAL_MS;
  if (!isPositiveInteger(banSyncIntervalMs)) problems.push(messages.notPositiveInteger('banSyncIntervalMs', banSyncIntervalMs));
  const storeTimeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
  if (!isPositiveInteger(storeTimeoutMs)) problems.push(messages.notPositiveInteger('storeTimeoutMs', storeTimeoutMs));
  const onStoreError = options.onStoreError ?? 'allow';
  if (!STORE_ERROR_POLICIES.includes(onStoreError)) problems.push(messages.badStoreErrorPolicy('onStoreError', onStoreError));
  for (const flag of ['storeFallback', 'requireStore'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') problems.push(messages.badBoolean(flag, options[flag]));
  }
  const storeProbeIntervalMs = options.storeProbeIntervalMs ?? DEFAULT_STORE_PROBE_INTERVAL_MS;
  if (!isPositiveInteger(storeProbeIntervalMs)) problems.push(messages.notPositiveInteger('storeProbeIntervalMs', storeProbeIntervalMs));
  const storeStartupTimeoutMs = options.storeStartupTimeoutMs ?? DEFAULT_STORE_STARTUP_TIMEOUT_MS;
  if (!isPositiveInteger(storeStartupTimeoutMs)) problems.push(messages.notPositiveInteger('storeStartupTimeoutMs', storeStartupTimeoutMs));
  const escalationProblems = problems.length;
  checkEscalation(options.escalation, 'escalation', problems);
  const escalation: EscalationPolicy | false =
    options.escalation === false ? false : mergeEscalationPolicy(DEFAULT_ESCALATION_POLICY, (options.escalation ?? {}) as Partial<EscalationPolicy>);
  if (problems.length === escalationProblems && isPositiveInteger(violationRetentionMs)) {
    if (escalation) checkMergedEscalation(escalation, 'escalation', violationRetentionMs, problems);
    rules.forEach((rule, i) => {
      const policy = ruleEscalation({ escalation }, rule);
      if (policy && rule.escalation) checkMergedEscalation(policy, `rules[${i}].escalation`, violationRetentionMs, problems);
    });
  }
  const { events } = options;
  if (events !== undefined) {
    if (typeof events !== 'object' || events === null || Array.isArray(events)) problems.push(messages.badEvents(events));
    else {
      for (const name of ['onViolation', 'onBlock', 'onBan', 'onUnban', 'onStoreDown', 'onStoreUp'] as const) {
        if (events[name] !== undefined && typeof events[name] !== 'function') problems.push(messages.notAFunction(`events.${name}`, events[name]));
      }
    }
  }
  const adminApiKeyDigests = checkAdminApiKeys(options.adminApiKey, problems);
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);

  return Object.freeze({
    rules,
    store: store as RateLimitStore,
    storage,
    escalation,
    violationRetentionMs,
    banSyncIntervalMs,
    storeTimeoutMs,
    onStoreError,
    storeFallback: options.storeFallback ?? false,
    storeProbeIntervalMs,
    storeStartupTimeoutMs,
    requireStore: options.requireStore ?? false,
    ...(events ? { events } : {}),
    ...(options.keyResolver ? { keyResolver: options.keyResolver } : {}),
    trust,
    ipv6PrefixLength,
    standardHeaders: options.standardHeaders ?? true,
    legacyHeaders: options.legacyHeaders ?? false,
    ...(options.skipIf ? { skipIf: options.skipIf } : {}),
    clock,
    ...(errorMessage !== undefined ? { errorMessage } : {}),
    ...(adminApiKeyDigests.length > 0 ? { adminApiKeyDigests: Object.freeze(adminApiKeyDigests) } : {}),
  });
}
