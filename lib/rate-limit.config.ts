import type { ExecutionContext } from '@nestjs/common';
import { ALGORITHM_NAMES } from './core/algorithms/index.js';
import type { AlgorithmName } from './core/algorithms/algorithm.interface.js';
import { systemClock, type Clock } from './core/clock.js';
import { compileTrustProxy, type CompiledTrust } from './core/ip/trust-proxy.js';
import { validateIpv6PrefixLength } from './core/ip/client-key.js';
import type { StoreRule } from './core/rule-decision.js';
import * as messages from './errors/messages.js';
import { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
import type { RateLimitModuleOptions, RateLimitViolation } from './rate-limit-options.interface.js';
import type { ClientKeyResolver, RateLimitRule, ThrottleRule } from './rate-limit-rule.interface.js';
import { MemoryRateLimitStore } from './storage/memory-rate-limit.store.js';
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
  /** What the store receives. */
  readonly storeRule: StoreRule;
}

/** The validated configuration the guard runs on (the public options are kept apart from it). */
export interface RateLimitConfig {
  readonly rules: readonly ResolvedRule[];
  readonly store: RateLimitStore;
  readonly keyResolver?: ClientKeyResolver;
  readonly trust: CompiledTrust | null;
  readonly ipv6PrefixLength: number;
  readonly standardHeaders: boolean;
  readonly legacyHeaders: boolean;
  readonly skipIf?: (context: ExecutionContext) => boolean | Promise<boolean>;
  readonly clock: Clock;
  readonly errorMessage?: string | ((violation: RateLimitViolation) => string);
}

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
    storeRule,
  });
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

  const store = options.store ?? new MemoryRateLimitStore(options.memoryStore);
  const candidate = store as Partial<RateLimitStore>;
  if (typeof candidate.consume !== 'function' || typeof candidate.get !== 'function' || typeof candidate.reset !== 'function') {
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
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);

  return Object.freeze({
    rules,
    store,
    ...(options.keyResolver ? { keyResolver: options.keyResolver } : {}),
    trust,
    ipv6PrefixLength,
    standardHeaders: options.standardHeaders ?? true,
    legacyHeaders: options.legacyHeaders ?? false,
    ...(options.skipIf ? { skipIf: options.skipIf } : {}),
    clock,
    ...(errorMessage !== undefined ? { errorMessage } : {}),
  });
}
