import type { RampartLogger } from '../core/logger.js';
import type { StoreRule } from '../core/rule-decision.js';
import { isThenable } from '../core/thenable.js';
import * as messages from '../errors/dynamic-limit-messages.js';
import { notAFunction, notPositiveInteger } from '../errors/messages.js';
import { checkFields, isObject } from '../core/option-objects.js';
import { RecentKeysMap } from '../storage/recent-keys.map.js';
import { isPositiveInteger, type ResolvedRule } from './rule-resolution.js';
import type { FixedRateLimitRule, RequestLimits, RequestLimitsCache, RequestValue, ThrottleRule } from './rule.interface.js';
import { identityKey } from './store-keys.js';

/** The fields of a rule that may be functions of the request. */
export const FIELDS = ['limit', 'windowMs', 'burst'] as const;
export type Field = (typeof FIELDS)[number];
const CACHE_FIELDS = ['ttlMs', 'maxKeys', 'key'];
const DEFAULT_MAX_KEYS = 10_000;
/** A rule whose dynamic limits keep failing is reported at most this often (clock time). */
const REPORT_INTERVAL_MS = 60_000;

/** One key's answer: the store rule (or the lookup under way) and when it goes stale. */
interface Cached {
  readonly value: StoreRule | Promise<StoreRule>;
  readonly expiresAtMs: number;
}

/** A rule's dynamic limits, checked, with its cache and its failure reports. */
export interface DynamicLimits<C> {
  /** The fields given as functions of the request. */
  readonly functions: Readonly<Partial<Record<Field, RequestValue<C, number>>>>;
  readonly limits?: RequestValue<C, RequestLimits>;
  readonly fallback?: RequestLimits;
  readonly limitsCache?: RequestLimitsCache<C>;
  /** Answers by key, oldest first (with `limitsCache` only). */
  readonly cache?: RecentKeysMap<Cached>;
  /** When a failure was last logged, and how many were not since. */
  readonly reports: { atMs?: number; since: number };
}

/**
 * Takes the dynamic parts out of a rule as given: its `limit`, `windowMs` and `burst` functions (each
 * needs its `fallback` value) or its `limits` function, and its `limitsCache`. Returns the rule with
 * numbers in those fields (the fallback values in place of functions) for the usual checks, and its
 * dynamic limits (undefined for a rule without any). Problems are appended to `problems`.
 */
export function splitDynamicLimits<C>(
  rule: ThrottleRule<C>,
  path: string,
  problems: string[],
): { rule: Partial<FixedRateLimitRule<C>>; dynamic?: DynamicLimits<C> } {
  const functions: Partial<Record<Field, RequestValue<C, number>>> = {};
  for (const field of FIELDS) if (typeof rule[field] === 'function') functions[field] = rule[field] as RequestValue<C, number>;
  const named = Object.keys(functions) as Field[];
  const { limits, fallback, limitsCache } = rule;
  if (limits !== undefined && typeof limits !== 'function') problems.push(notAFunction(`${path}.limits`, limits));
  const fallbackValues = checkFallback(fallback, path, problems);
  if (named.length === 0 && limits === undefined) {
    if (limitsCache !== undefined) problems.push(messages.limitsCacheWithoutFunction(path));
    return { rule: rule as Partial<FixedRateLimitRule<C>> };
  }
  if (named.length > 0 && limits !== undefined) problems.push(messages.limitsWithFieldFunctions(path, named));
  const numbers: Partial<Record<Field, number>> = {};
  for (const field of named) {
    // A fallback that is no object, or a bad value, is reported by checkFallback already.
    if (fallback === undefined || (isObject(fallback) && fallback[field] === undefined)) problems.push(messages.missingFallback(path, field));
    // 1 stands in for a missing or bad fallback: that problem is reported already.
    numbers[field] = fallbackValues[field] ?? 1;
  }
  checkCache(limitsCache, path, problems);
  const dynamic: DynamicLimits<C> = {
    functions: Object.freeze(functions),
    ...(typeof limits === 'function' ? { limits } : {}),
    ...(fallback !== undefined ? { fallback } : {}),
    ...(limitsCache !== undefined ? { limitsCache, cache: new RecentKeysMap<Cached>(limitsCache.maxKeys ?? DEFAULT_MAX_KEYS) } : {}),
    reports: { since: 0 },
  };
  return { rule: { ...rule, ...numbers } as Partial<FixedRateLimitRule<C>>, dynamic };
}

/** The fallback's valid values; problems appended. */
function checkFallback(fallback: unknown, path: string, problems: string[]): Partial<Record<Field, number>> {
  if (fallback === undefined) return {};
  if (!isObject(fallback)) {
    problems.push(messages.badFallback(path, fallback));
    return {};
  }
  const values: Partial<Record<Field, number>> = {};
  for (const field of Object.keys(fallback)) if (!(FIELDS as readonly string[]).includes(field)) problems.push(messages.unknownFallbackField(path, field));
  for (const field of FIELDS) {
    const value = fallback[field];
    if (value === undefined) continue;
    if (isPositiveInteger(value)) values[field] = value;
    else problems.push(notPositiveInteger(`${path}.fallback.${field}`, value));
  }
  return values;
}

function checkCache(cache: unknown, path: string, problems: string[]): void {
  if (cache === undefined) return;
  if (!isObject(cache)) return void problems.push(messages.badLimitsCache(path, cache));
  const where = `${path}.limitsCache`;
  checkFields(cache, where, CACHE_FIELDS, problems);
  if (!isPositiveInteger(cache['ttlMs'])) problems.push(notPositiveInteger(`${where}.ttlMs`, cache['ttlMs']));
  if (cache['maxKeys'] !== undefined && !isPositiveInteger(cache['maxKeys'])) problems.push(notPositiveInteger(`${where}.maxKeys`, cache['maxKeys']));
  if (cache['key'] !== undefined && typeof cache['key'] !== 'function') problems.push(notAFunction(`${where}.key`, cache['key']));
}

/**
 * The store rule `rule` counts one request by: its dynamic limits for `context` (the cached answer
 * while fresh), or its own `storeRule` (the fallback values) when they fail, the failure logged.
 */
export function dynamicStoreRule<C>(
  rule: ResolvedRule<C>,
  dynamic: DynamicLimits<C>,
  context: C,
  clientKey: string,
  nowMs: number,
  logger: RampartLogger,
): StoreRule | Promise<StoreRule> {
  const { cache, limitsCache } = dynamic;
  if (cache === undefined || limitsCache === undefined) {
    const looked = lookUp(rule, dynamic, context);
    return isThenable(looked) ? looked.then((r) => settled(rule, dynamic, r, nowMs, logger)) : settled(rule, dynamic, looked, nowMs, logger);
  }
  const key = cacheKey(limitsCache, context, clientKey);
  const cached = cache.get(key);
  if (cached !== undefined && cached.expiresAtMs > nowMs) return cached.value;
  const expiresAtMs = nowMs + limitsCache.ttlMs;
  const looked = lookUp(rule, dynamic, context);
  if (!isThenable(looked)) {
    if (typeof looked !== 'string') cache.remember(key, { value: looked, expiresAtMs });
    return settled(rule, dynamic, looked, nowMs, logger);
  }
  // Requests of this key that arrive meanwhile share the lookup; a failed one is forgotten.
  const entry: Cached = {
    value: looked.then((r) => {
      if (typeof r === 'string' && cache.get(key) === entry) cache.delete(key);
      return settled(rule, dynamic, r, nowMs, logger);
    }),
    expiresAtMs,
  };
  cache.remember(key, entry);
  return entry.value;
}

/**
 * The limits `dynamic` has cached for a client key, while fresh, without asking the function:
 * what the admin client view reads a client's state by (it has no request). Undefined when the
 * rule caches by its own `key` or has no answer for the client.
 */
export function cachedLimits<C>(dynamic: DynamicLimits<C>, clientKey: string, nowMs: number): StoreRule | Promise<StoreRule> | undefined {
  const cached = dynamic.limitsCache?.key === undefined ? dynamic.cache?.get(clientKey) : undefined;
  return cached !== undefined && cached.expiresAtMs > nowMs ? cached.value : undefined;
}

/**
 * What answers are cached by: the cache's `key` for the request when it gives text, else the client
 * key. The two are kept apart (`k:` and `c:`), so that a request whose key is some client's key
 * (`x-tenant: acme` from anyone) never reads nor plants the answer cached for that client.
 */
function cacheKey<C>(cache: RequestLimitsCache<C>, context: C, clientKey: string): string {
  if (cache.key === undefined) return clientKey;
  let key: unknown;
  try {
    key = cache.key(context);
  } catch {
    return `c:${clientKey}`;
  }
  // Long keys (text from the request) are kept as their hash, as client keys are.
  return typeof key === 'string' && key.length > 0 ? `k:${identityKey(key)}` : `c:${clientKey}`;
}

/** The request's store rule from the functions' answers, or why there is none. */
function lookUp<C>(rule: ResolvedRule<C>, dynamic: DynamicLimits<C>, context: C): StoreRule | string | Promise<StoreRule | string> {
  if (dynamic.limits) {
    const answer = ask(dynamic.limits, 'limits', context);
    return isThenable(answer) ? answer.then((a) => fromLimits(rule, a)) : fromLimits(rule, answer);
  }
  const fields = Object.keys(dynamic.functions) as Field[];
  const answers = fields.map((field) => ask(dynamic.functions[field] as RequestValue<C, number>, field, context));
  const combine = (given: readonly Answer<number>[]): StoreRule | string => {
    const values: Record<string, unknown> = {};
    for (let i = 0; i < given.length; i++) {
      const answer = given[i] as Answer<number>;
      if ('reason' in answer) return answer.reason;
      values[fields[i] as Field] = answer.value;
    }
    return storeRuleOf(rule, values);
  };
  return answers.some(isThenable) ? Promise.all(answers).then(combine) : combine(answers as Answer<number>[]);
}

/** A function's answer, or why there is none (it threw, or its promise rejected). */
type Answer<T> = { readonly value: T } | { readonly reason: string };

function ask<C, T>(fn: RequestValue<C, T>, name: string, context: C): Answer<T> | Promise<Answer<T>> {
  try {
    const value = fn(context);
    if (!isThenable(value)) return { value };
    return Promise.resolve(value).then(
      (v) => ({ value: v }),
      (error: unknown) => ({ reason: messages.limitFunctionFailed(name, error) }),
    );
  } catch (error) {
    return { reason: messages.limitFunctionFailed(name, error) };
  }
}

/** The store rule of a `limits` answer, or why it is not one. */
function fromLimits(rule: ResolvedRule<never>, answer: Answer<RequestLimits>): StoreRule | string {
  if ('reason' in answer) return answer.reason;
  const { value } = answer;
  if (!isObject(value)) return messages.badLimitsResult(value);
  try {
    for (const field of Object.keys(value)) if (!(FIELDS as readonly string[]).includes(field)) return messages.unknownLimitsField(field);
    return storeRuleOf(rule, { limit: value.limit, windowMs: value.windowMs, burst: value.burst });
  } catch (error) {
    // An object whose properties throw when read (a proxy, a getter).
    return messages.limitFunctionFailed('limits', error);
  }
}

/** The store rules of each rule's dynamic values, by value (at most `MAX_VARIANTS` per rule). */
const interned = new WeakMap<ResolvedRule<never>, Map<string, StoreRule>>();
const MAX_VARIANTS = 256;

/** `rule`'s store rule with the given fields in place of its own, or why one of them is not a positive integer. */
function storeRuleOf(rule: ResolvedRule<never>, values: Readonly<Record<string, unknown>>): StoreRule | string {
  const { storeRule } = rule;
  const given: Partial<Record<Field, number>> = {};
  let changed = false;
  for (const field of FIELDS) {
    const value = values[field];
    if (value === undefined) continue;
    if (!isPositiveInteger(value)) return messages.badLimitValue(field, value);
    given[field] = value;
    changed ||= value !== storeRule[field];
  }
  if (!changed) return storeRule;
  // One object per set of values: the store gateway remembers a key's denial for the same rule object.
  let variants = interned.get(rule);
  if (variants === undefined) interned.set(rule, (variants = new Map()));
  const id = `${given.limit}/${given.windowMs}/${given.burst}`;
  let variant = variants.get(id);
  if (variant === undefined) {
    if (variants.size >= MAX_VARIANTS) variants.clear();
    variants.set(id, (variant = Object.freeze({ ...storeRule, ...given })));
  }
  return variant;
}

/** The store rule of a settled lookup: its own, or, when it failed, the rule's fallback (the failure logged). */
function settled<C>(rule: ResolvedRule<C>, dynamic: DynamicLimits<C>, looked: StoreRule | string, nowMs: number, logger: RampartLogger): StoreRule {
  if (typeof looked !== 'string') return looked;
  const { reports } = dynamic;
  if (reports.atMs !== undefined && nowMs - reports.atMs < REPORT_INTERVAL_MS) reports.since++;
  else {
    logger.warn(messages.dynamicLimitFailed(rule.name, looked, rule.limit, rule.windowMs, reports.since));
    reports.atMs = nowMs;
    reports.since = 0;
  }
  return rule.storeRule;
}
