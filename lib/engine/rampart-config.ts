import { systemClock, type Clock } from '../core/clock.js';
import { DEFAULT_ESCALATION_POLICY, mergeEscalationPolicy, type EscalationPolicy } from '../core/escalation.js';
import { compileTrustProxy, type CompiledTrust } from '../core/ip/trust-proxy.js';
import { validateIpv6PrefixLength } from '../core/ip/client-key.js';
import { consoleLogger, type RampartLogger } from '../core/logger.js';
import { checkPositiveIntegers, filled, optionsObject } from '../core/option-objects.js';
import * as messages from '../errors/messages.js';
import * as refundMessages from '../errors/refund-messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import type { RateLimitEventHandlers } from '../events/rate-limit-events.js';
import { memoryStorage } from '../storage/memory-storage.js';
import { isSplitStorage, splitStorage } from '../storage/split-storage.js';
import { DEFAULT_RETENTION_MS } from '../storage/store-input.js';
import { DEFAULT_MAX_CACHED_KEY_BANS } from '../protection/protection-cache.js';
import { DEFAULT_LEASE_MS } from '../protection/lease-keeper.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import { missingStorageParts } from '../storage/storage-check.js';
import { checkGroups, type GroupResolver } from './groups.js';
import type { RateLimitStore } from '../storage/rate-limit-store.interface.js';
import type { BanEnforcement, RampartOptions, RateLimitViolation } from './rampart-options.interface.js';
import {
  checkEscalation,
  checkMergedEscalation,
  checkUniqueNames,
  DEFAULT_RULE,
  isPositiveInteger,
  resolveRule,
  ruleEscalation,
  STORE_ERROR_POLICIES,
  type ResolvedRule,
} from './rule-resolution.js';
import type { ClientKeyResolver, StoreErrorPolicy } from './rule.interface.js';
import { DEFAULT_STORE_BREAKER, type StoreBreakerOptions } from '../protection/store-breaker.js';
import { checkShadow, checkStats, type StatsConfig } from '../observability/observability-config.js';
import { checkAlerts, type AlertsConfig } from '../alerts/alert-config.js';
import { checkLogging, type LoggingConfig } from '../observability/logging-config.js';

/** The validated configuration the engine runs on (the public options are kept apart from it). */
export interface RampartConfig<C = unknown> {
  readonly rules: readonly ResolvedRule<C>[];
  /** Counters: the `store` option, or `storage.rateLimits`. */
  readonly store: RateLimitStore;
  /** Bans, violations and allow/deny lists (and, unless `store` overrides it, counters). */
  readonly storage: RampartStorage;
  /** The module's escalation policy, defaults filled in; false when off. */
  readonly escalation: EscalationPolicy | false;
  /** How long automatic bans last; undefined: permanent. */
  readonly autoBanDurationMs?: number;
  readonly violationRetentionMs: number;
  readonly banSyncIntervalMs: number;
  /** Most automatic key bans each instance holds in memory. */
  readonly maxCachedBans: number;
  /** Longest wait for a rate-limit store call on a request. */
  readonly storeTimeoutMs: number;
  /** How long a lease (a concurrency slot) outlives an instance that stopped renewing it. */
  readonly leaseMs: number;
  /** What rules without their own `onStoreError` answer while the store is down. */
  readonly onStoreError: StoreErrorPolicy;
  /** Count in an in-process memory store while the store is down. */
  readonly storeFallback: boolean;
  /** When failed calls mark the store down. */
  readonly storeBreaker: StoreBreakerOptions;
  /** Most keys whose denial is remembered until its retry time. */
  readonly denialCacheSize: number;
  /** Pause between two probes of a store that is down. */
  readonly storeProbeIntervalMs: number;
  /** How long startup waits for the storage to be ready. */
  readonly storeStartupTimeoutMs: number;
  /** Whether startup fails when the storage is not ready in time. */
  readonly requireStore: boolean;
  readonly events?: RateLimitEventHandlers;
  readonly keyResolver?: ClientKeyResolver<C>;
  /** Decides each client's group (rules with `groups` count only theirs); undefined: every client is in `default`. */
  readonly groupResolver?: GroupResolver<C>;
  /** Groups no rule counts (bans and lists still apply). */
  readonly unlimitedGroups: ReadonlySet<string>;
  readonly trust: CompiledTrust | null;
  readonly ipv6PrefixLength: number;
  readonly standardHeaders: boolean;
  readonly legacyHeaders: boolean;
  /** Where bans, blocks and lists are enforced: every target, or only targets with rules. */
  readonly enforceBans: BanEnforcement;
  readonly skipIf?: (context: C) => boolean | Promise<boolean>;
  readonly clock: Clock;
  readonly errorMessage?: string | ((violation: RateLimitViolation) => string);
  readonly logger: RampartLogger;
  /** Every rule, ban, block and list entry in shadow mode: reported, never enforced. */
  readonly shadow: boolean;
  /** In-process statistics; false when off. */
  readonly stats: StatsConfig | false;
  /** Alert thresholds and webhooks; false when off. */
  readonly alerts: AlertsConfig | false;
  /** The event log of violations, blocks, bans and unbans; false when off. */
  readonly logging: LoggingConfig | false;
}

/** Violation history is kept 30 days unless `violationRetentionMs` says otherwise. */
export const DEFAULT_VIOLATION_RETENTION_MS = DEFAULT_RETENTION_MS;
/** Each instance fetches ban and list changes every second unless `banSyncIntervalMs` says otherwise. */
export const DEFAULT_BAN_SYNC_INTERVAL_MS = 1_000;
/** A rate-limit store call on a request waits at most this long unless `storeTimeoutMs` says otherwise. */
export const DEFAULT_STORE_TIMEOUT_MS = 500;
/** A store that is down is probed this often unless `storeProbeIntervalMs` says otherwise. */
export const DEFAULT_STORE_PROBE_INTERVAL_MS = 250;
/** Startup waits at most this long for the storage unless `storeStartupTimeoutMs` says otherwise. */
export const DEFAULT_STORE_STARTUP_TIMEOUT_MS = 5_000;
/** Denials remembered until their retry time unless `denialCacheSize` says otherwise. */
export const DEFAULT_DENIAL_CACHE_SIZE = 10_000;

/** The `storeBreaker` option with its defaults filled in (a field set to undefined takes its default); its problems appended to `problems`. */
function checkStoreBreaker(given: unknown, problems: string[]): StoreBreakerOptions {
  const options = optionsObject(given, 'storeBreaker', Object.keys(DEFAULT_STORE_BREAKER), messages.badStoreBreaker, problems);
  if (options === undefined) return DEFAULT_STORE_BREAKER;
  const breaker = filled(DEFAULT_STORE_BREAKER, options);
  const before = problems.length;
  checkPositiveIntegers(breaker, 'storeBreaker', ['windowMs', 'failures', 'clients'], problems);
  if (problems.length === before && breaker.clients > breaker.failures) problems.push(messages.breakerClientsAboveFailures(breaker.clients, breaker.failures));
  return Object.freeze(breaker);
}

const BAN_ENFORCEMENTS: readonly unknown[] = ['all-routes', 'limited-routes'] satisfies BanEnforcement[];

/**
 * Validates the engine's options once, at startup. Problems are appended to `problems`; the
 * returned configuration is only meaningful when none were added (see `resolveRampartConfig`).
 */
export function checkRampartOptions<C>(options: RampartOptions<C>, problems: string[]): RampartConfig<C> {
  const given = options.rules === undefined ? [DEFAULT_RULE] : Array.isArray(options.rules) ? options.rules : [options.rules];
  const rules = given.map((rule, i) => resolveRule(rule ?? {}, `rules[${i}]`, problems));
  checkUniqueNames(given, 'rules', problems);

  const violationRetentionMs = options.violationRetentionMs ?? DEFAULT_VIOLATION_RETENTION_MS;
  if (!isPositiveInteger(violationRetentionMs)) problems.push(messages.notPositiveInteger('violationRetentionMs', violationRetentionMs));
  const storage = isSplitStorage(options.storage)
    ? splitStorage(options.storage)
    : (options.storage ??
      memoryStorage({
        ...(options.memoryStore !== undefined ? { rateLimits: options.memoryStore } : {}),
        ...(isPositiveInteger(violationRetentionMs) ? { violations: { retentionMs: violationRetentionMs } } : {}),
      }));
  const missing = missingStorageParts(storage, options.store === undefined);
  if (missing.length > 0) problems.push(messages.badStorage(options.storage, missing));
  const store = options.store ?? storage?.rateLimits;
  const candidate = (store ?? {}) as Partial<RateLimitStore>;
  if (
    options.store !== undefined &&
    (typeof candidate.consume !== 'function' || typeof candidate.get !== 'function' || typeof candidate.reset !== 'function')
  ) {
    problems.push(messages.badStore(options.store));
  }
  if (candidate.refund !== undefined && typeof candidate.refund !== 'function') problems.push(refundMessages.badStoreRefund(candidate.refund));
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
  const enforceBans = options.enforceBans ?? 'all-routes';
  if (!BAN_ENFORCEMENTS.includes(enforceBans)) problems.push(messages.badBanEnforcement(enforceBans));
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') problems.push(messages.badClock(options.clock));
  const { errorMessage } = options;
  if (errorMessage !== undefined && typeof errorMessage !== 'string' && typeof errorMessage !== 'function') {
    problems.push(messages.badErrorMessage(errorMessage));
  }
  const banSyncIntervalMs = options.banSyncIntervalMs ?? DEFAULT_BAN_SYNC_INTERVAL_MS;
  if (!isPositiveInteger(banSyncIntervalMs)) problems.push(messages.notPositiveInteger('banSyncIntervalMs', banSyncIntervalMs));
  const maxCachedBans = options.maxCachedBans ?? DEFAULT_MAX_CACHED_KEY_BANS;
  if (!isPositiveInteger(maxCachedBans)) problems.push(messages.notPositiveInteger('maxCachedBans', maxCachedBans));
  const storeTimeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
  if (!isPositiveInteger(storeTimeoutMs)) problems.push(messages.notPositiveInteger('storeTimeoutMs', storeTimeoutMs));
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  if (!isPositiveInteger(leaseMs) || leaseMs < 3) problems.push(messages.notPositiveInteger('leaseMs (at least 3)', leaseMs));
  const onStoreError = options.onStoreError ?? 'allow';
  if (!STORE_ERROR_POLICIES.includes(onStoreError)) problems.push(messages.badStoreErrorPolicy('onStoreError', onStoreError));
  for (const flag of ['storeFallback', 'requireStore'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') problems.push(messages.badBoolean(flag, options[flag]));
  }
  const storeBreaker = checkStoreBreaker(options.storeBreaker, problems);
  const denialCacheSize = options.denialCacheSize ?? DEFAULT_DENIAL_CACHE_SIZE;
  if (!Number.isInteger(denialCacheSize) || denialCacheSize < 0) problems.push(messages.notNonNegativeCount('denialCacheSize', denialCacheSize));
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
  const { autoBanDurationMs } = options;
  if (autoBanDurationMs !== undefined) {
    if (!isPositiveInteger(autoBanDurationMs)) problems.push(messages.notPositiveInteger('autoBanDurationMs', autoBanDurationMs));
    else if (escalation && problems.length === escalationProblems && autoBanDurationMs < escalation.maxBlockDurationMs) {
      problems.push(messages.autoBanBelowMaxBlock(autoBanDurationMs, escalation.maxBlockDurationMs));
    }
  }
  const { events } = options;
  if (events !== undefined) {
    if (typeof events !== 'object' || events === null || Array.isArray(events)) problems.push(messages.badEvents(events));
    else {
      for (const name of ['onViolation', 'onBlock', 'onBan', 'onUnban', 'onStoreDown', 'onStoreUp', 'onAlert'] as const) {
        if (events[name] !== undefined && typeof events[name] !== 'function') problems.push(messages.notAFunction(`events.${name}`, events[name]));
      }
    }
  }
  const { logger } = options;
  if (logger !== undefined && !['log', 'warn', 'error'].every((m) => typeof (logger as unknown as Record<string, unknown>)?.[m] === 'function')) {
    problems.push(messages.badLogger(logger));
  }

  const shadow = checkShadow(options.shadow, process.env, problems);
  const stats = checkStats(options.stats, problems);
  const logging = checkLogging(options.logging, problems);

  return Object.freeze({
    rules,
    store: store as RateLimitStore,
    storage,
    escalation,
    ...(autoBanDurationMs !== undefined ? { autoBanDurationMs } : {}),
    violationRetentionMs,
    banSyncIntervalMs,
    maxCachedBans,
    storeTimeoutMs,
    leaseMs,
    onStoreError,
    storeFallback: options.storeFallback ?? true,
    storeBreaker,
    denialCacheSize,
    storeProbeIntervalMs,
    storeStartupTimeoutMs,
    requireStore: options.requireStore ?? false,
    ...(events ? { events } : {}),
    ...(options.keyResolver ? { keyResolver: options.keyResolver } : {}),
    ...checkGroups<C>(options, problems),
    trust,
    ipv6PrefixLength,
    standardHeaders: options.standardHeaders ?? true,
    legacyHeaders: options.legacyHeaders ?? false,
    enforceBans,
    ...(options.skipIf ? { skipIf: options.skipIf } : {}),
    clock,
    ...(errorMessage !== undefined ? { errorMessage } : {}),
    logger: logger ?? consoleLogger,
    shadow,
    stats,
    alerts: checkAlerts(options.alerts, stats, problems),
    logging,
  });
}

/** Validates the engine's options into one error that lists every problem. */
export function resolveRampartConfig<C>(options: RampartOptions<C> = {}): RampartConfig<C> {
  const problems: string[] = [];
  const config = checkRampartOptions(options, problems);
  if (problems.length > 0) throw new RateLimitConfigurationError(problems, 'createRampart');
  return config;
}
