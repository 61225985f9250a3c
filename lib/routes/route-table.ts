import * as messages from '../errors/messages.js';
import * as policyMessages from '../errors/policy-messages.js';
import { isObject } from '../core/option-objects.js';
import { checkRuleGroups } from '../engine/groups.js';
import { checkUniqueNames, resolveRule, type ResolvedRule } from '../engine/rule-resolution.js';
import { overriddenRule } from '../engine/rule-override.js';
import { targetRules, type TargetRule, type TargetRules } from '../engine/target-rules.js';
import { compilePathPattern, matchedPath } from './path-pattern.js';
import type { RouteRule } from './route-options.js';

/** Methods each entry keeps the rules of (emptied when full): HTTP servers accept a few dozen. */
const METHOD_CACHE_SIZE = 64;
const METHOD_PATTERN = /^[A-Za-z]{1,32}$/;
const ROUTE_FIELDS = ['path', 'name', 'methods', 'rules'];

/** One route entry, checked. */
interface CompiledRoute<C> {
  /** What its rules count per: its `name`, else `path:<pattern>`. */
  readonly target: string;
  readonly pattern: string;
  readonly regex: RegExp;
  readonly methods?: ReadonlySet<string>;
  readonly rules: readonly { readonly rule: ResolvedRule<C>; readonly methods?: ReadonlySet<string> }[];
  readonly unlimited: readonly { readonly groups: readonly string[]; readonly methods?: ReadonlySet<string> }[];
  /** The rules that apply to each method, built on first use. */
  readonly byMethod: Map<string, TargetRules<C>>;
}

/**
 * A rule's store keys carry its algorithm when it is not the default (`api~token-bucket:...`), so
 * that a rule whose algorithm a reload changes starts afresh instead of reading another algorithm's
 * state; a rule that keeps its name and algorithm keeps its counters.
 */
export function keyedByAlgorithm<C>(rule: ResolvedRule<C>): ResolvedRule<C> {
  return rule.algorithm === 'sliding-window' ? rule : Object.freeze({ ...rule, keyName: `${rule.name}~${rule.algorithm}` });
}

/** HTTP methods as given (`get`, `POST`), upper-cased; problems appended. */
function checkMethods(value: unknown, path: string, problems: string[]): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((m) => typeof m === 'string' && METHOD_PATTERN.test(m))) {
    problems.push(policyMessages.badMethods(path, value));
    return undefined;
  }
  const methods = new Set((value as string[]).map((m) => m.toUpperCase()));
  // Express and Fastify answer HEAD with the GET handler: a HEAD request is counted as a GET.
  if (methods.has('GET')) methods.add('HEAD');
  return methods;
}

/**
 * The `routes` and `excludePaths` options, checked and compiled: which rules count an HTTP request,
 * by its path and method (see `RateLimitRoute`), and which paths nothing counts.
 */
export class RouteTable<C = unknown> {
  static readonly EMPTY = new RouteTable<never>([], []);

  private constructor(
    private readonly routes: readonly CompiledRoute<C>[],
    /** Paths nothing counts or checks: each is matched as it is and as a prefix (`/docs` covers `/docs/x`). */
    readonly excludePaths: readonly string[],
  ) {}

  /** Whether there is nothing to match. */
  get empty(): boolean {
    return this.routes.length === 0 && this.excludePaths.length === 0;
  }

  /**
   * Checks `routes` and `excludePaths`; problems are appended (the table is only meaningful without).
   *
   * @param moduleRules the rules a route rule naming one of them without `limit` and `windowMs` takes its fields from
   */
  static compile<C>(routes: unknown, excludePaths: unknown, moduleRules: readonly ResolvedRule<C>[], problems: string[]): RouteTable<C> {
    const compiled: CompiledRoute<C>[] = [];
    if (routes !== undefined && !Array.isArray(routes)) problems.push(policyMessages.badRoutes(routes));
    else
      (routes ?? []).forEach((route, i) => {
        const entry = compileRoute<C>(route, `routes[${i}]`, moduleRules, problems);
        if (entry) compiled.push(entry);
      });
    const excluded: string[] = [];
    if (excludePaths !== undefined && (!Array.isArray(excludePaths) || !excludePaths.every(isExcludedPath)))
      problems.push(policyMessages.badExcludePaths(excludePaths));
    else excluded.push(...((excludePaths as string[] | undefined) ?? []).map((p) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p)));
    return new RouteTable(compiled, Object.freeze(excluded));
  }

  /**
   * What counts a request: `'excluded'` (nothing: not even bans), the rules of the first entry that
   * matches its method and path, undefined when none does (its handler's rules then apply), or
   * `'too-long'` for a path longer than any pattern is run on (refused: 414).
   *
   * @param url the request's URL as sent (path and query)
   */
  match(method: string, url: string): TargetRules<C> | 'excluded' | 'too-long' | undefined {
    const path = matchedPath(url);
    if (path === undefined) return 'too-long';
    for (const prefix of this.excludePaths) {
      if (path === prefix || (path.startsWith(prefix) && (prefix === '/' || path.charCodeAt(prefix.length) === 0x2f))) return 'excluded';
    }
    const verb = method.toUpperCase();
    for (const route of this.routes) {
      if (route.methods && !route.methods.has(verb)) continue;
      if (route.regex.test(path)) return rulesOf(route, verb);
    }
    return undefined;
  }

  /** Every rule of every entry as it counts (for the admin API's counters of a client). */
  targetRules(): TargetRule<C>[] {
    return this.routes.flatMap(
      (route) =>
        targetRules(
          route.target,
          route.rules.map((r) => r.rule),
        ).rules,
    );
  }

  /** The entries as configured, for the admin API. */
  describe(): { path: string; target: string; methods?: string[]; rules: string[]; unlimitedGroups: string[] }[] {
    return this.routes.map((route) => ({
      path: route.pattern,
      target: route.target,
      ...(route.methods ? { methods: [...route.methods] } : {}),
      rules: route.rules.map(({ rule }) => rule.name),
      unlimitedGroups: route.unlimited.flatMap((u) => u.groups),
    }));
  }
}

const isExcludedPath = (value: unknown): value is string => typeof value === 'string' && value.startsWith('/') && value.length <= 512;

/** The rules of `route` for one method (cached). */
function rulesOf<C>(route: CompiledRoute<C>, method: string): TargetRules<C> {
  let rules = route.byMethod.get(method);
  if (rules === undefined) {
    const applies = (methods?: ReadonlySet<string>) => !methods || methods.has(method);
    const unlimited = new Set(route.unlimited.filter((u) => applies(u.methods)).flatMap((u) => u.groups));
    rules = targetRules(
      route.target,
      route.rules.filter((r) => applies(r.methods)).map((r) => r.rule),
      unlimited,
    );
    if (route.byMethod.size >= METHOD_CACHE_SIZE) route.byMethod.clear();
    route.byMethod.set(method, rules);
  }
  return rules;
}

function compileRoute<C>(route: unknown, path: string, moduleRules: readonly ResolvedRule<C>[], problems: string[]): CompiledRoute<C> | undefined {
  if (!isObject(route)) {
    problems.push(policyMessages.badRoute(path, route));
    return undefined;
  }
  const before = problems.length;
  for (const field of Object.keys(route)) if (!ROUTE_FIELDS.includes(field)) problems.push(messages.unknownOption(path, field, ROUTE_FIELDS));
  const pattern = compilePathPattern(route.path);
  if ('problem' in pattern) problems.push(policyMessages.badRoutePath(`${path}.path`, route.path, pattern.problem));
  if (route.name !== undefined && (typeof route.name !== 'string' || !messages.RULE_NAME_PATTERN.test(route.name)))
    problems.push(messages.badRuleName(`${path}.name`, route.name));
  const methods = checkMethods(route.methods, `${path}.methods`, problems);
  const rules: CompiledRoute<C>['rules'][number][] = [];
  const unlimited: CompiledRoute<C>['unlimited'][number][] = [];
  if (!Array.isArray(route.rules)) problems.push(policyMessages.badRouteRules(`${path}.rules`, route.rules));
  else {
    const byName = new Map(moduleRules.map((r) => [r.name, r]));
    const counted = (route.rules as unknown[]).filter((r) => !(isObject(r) && r.unlimited === true)) as RouteRule<C>[];
    checkUniqueNames(counted, `${path}.rules`, problems);
    (route.rules as unknown[]).forEach((item, i) => {
      const where = `${path}.rules[${i}]`;
      if (!isObject(item)) return problems.push(policyMessages.badRoute(where, item));
      const { methods: given, zone, unlimited: free, ...fields } = item as RouteRule<C>;
      const ruleMethods = checkMethods(given, `${where}.methods`, problems);
      if (free !== undefined && typeof free !== 'boolean') problems.push(messages.badBoolean(`${where}.unlimited`, free));
      if (free === true) {
        const groups = checkRuleGroups(fields.groups, where, problems);
        if (fields.groups === undefined) problems.push(policyMessages.unlimitedWithoutGroups(where));
        const others = Object.keys(fields).filter((f) => f !== 'groups');
        if (others.length > 0) problems.push(policyMessages.unlimitedWithLimits(where, others));
        if (groups) unlimited.push({ groups, ...(ruleMethods ? { methods: ruleMethods } : {}) });
        return;
      }
      const name = fields.name ?? 'default';
      const base = byName.get(name);
      if (!base && (fields.limit === undefined || fields.windowMs === undefined)) return problems.push(policyMessages.incompleteRouteRule(where, name));
      const rule = resolveRule<C>({ ...overriddenRule(base, fields), name, ...(zone !== undefined ? { scope: zone } : {}) }, where, problems);
      rules.push({ rule: keyedByAlgorithm(rule), ...(ruleMethods ? { methods: ruleMethods } : {}) });
    });
  }
  if (problems.length > before || 'problem' in pattern) return undefined;
  const source = route.path as string;
  return {
    target: (route.name as string | undefined) ?? `path:${source}`,
    pattern: source,
    regex: pattern.regex,
    ...(methods ? { methods } : {}),
    rules,
    unlimited,
    byMethod: new Map(),
  };
}
