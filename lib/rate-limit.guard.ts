import { Inject, Injectable, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ServerResponse } from 'node:http';
import { formatRateLimit, formatRateLimitPolicy, mostRestrictive, secondsUntil, type HeaderItem } from './core/headers.js';
import { resolveClientAddress } from './core/ip/client-address.js';
import { clientKeyForAddress } from './core/ip/client-key.js';
import type { ConsumeResult, StoreRule } from './core/rule-decision.js';
import { ClientBannedException, type ClientBanReason } from './errors/client-banned.exception.js';
import { ClientBlockedException, type ClientBlock } from './errors/client-blocked.exception.js';
import { bannedDetail, blockedDetail, defaultViolationDetail, denyListedDetail, storeUnavailableDetail } from './errors/messages.js';
import { StoreUnavailableException } from './errors/store-unavailable.exception.js';
import { peerAddress, requestHeaders, setHeader } from './http-exchange.js';
import { ProtectionService } from './protection/protection.service.js';
import { NO_OUTCOME, type ProtectionVerdict, type ViolationOutcome } from './protection/protection-verdict.js';
import { settleWithin } from './protection/store-health.js';
import { ruleEscalation, type RateLimitConfig, type ResolvedRule } from './rate-limit.config.js';
import { RATE_LIMIT_CONFIG } from './rate-limit.constants.js';
import { RateLimitExceededException } from './rate-limit.exception.js';
import type { RateLimitViolation } from './rate-limit-options.interface.js';
import { RouteRulesResolver, type RouteRule, type RouteRules } from './route-rules.resolver.js';
import { MemoryRateLimitStore } from './storage/memory-rate-limit.store.js';
import type { RateLimitStore } from './storage/rate-limit-store.interface.js';

/** Client keys longer than this are stored as a hash, so hostile identities cannot bloat the store. */
const MAX_CLIENT_KEY_LENGTH = 128;
/** Peers whose parsed address is remembered (the cache is emptied when full). */
const PEER_CACHE_SIZE = 10_000;

/**
 * What a key resolver returned, as a client key: a non-empty string as it is, a number (a numeric
 * user id) as its text, and anything else (nothing, an empty string, an array or object from parsed
 * request data) undefined, meaning the client address. A non-string key would match no ban by key
 * and no violation could be recorded for it, so escalation would never reach it.
 */
function identityText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * A cost computed from the request, as whole units the store can count: rounded up, at least 1 (a
 * negative cost would give quota back; NaN or a non-number counts as 1), and at most one more than
 * the rule's capacity (any cost above it is denied alike; a huge one would lose precision in a
 * counter that is incremented and then given back).
 */
function requestCost(value: unknown, rule: StoreRule): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 1) return 1;
  const capacity = rule.algorithm === 'token-bucket' || rule.algorithm === 'gcra' ? (rule.burst ?? rule.limit) : rule.limit;
  return Math.min(Math.ceil(value), capacity + 1);
}

/** Whether a hook returned a promise (or any thenable) rather than a plain value. */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

interface RuleResult extends HeaderItem {
  readonly routeRule: RouteRule;
  /** The client key this rule counted (hashed when long). */
  readonly clientKey: string;
  readonly cost: number;
  readonly result: ConsumeResult;
}

function setNodeHeader(response: unknown, name: string, value: string): void {
  (response as ServerResponse).setHeader(name, value);
}

function ruleResult(routeRule: RouteRule, clientKey: string, cost: number, result: ConsumeResult): RuleResult {
  return {
    routeRule,
    clientKey,
    cost,
    result,
    name: routeRule.rule.name,
    limit: result.limit,
    windowMs: routeRule.rule.windowMs,
    remaining: result.remaining,
    resetAtMs: result.resetAtMs,
  };
}

/**
 * Counts each HTTP request against the rules of its route and answers 429 when one is exceeded.
 * Other contexts (WebSocket, microservices, GraphQL resolvers) pass through untouched.
 *
 * Before any rule, the client is looked up in the in-process cache of allow/deny lists and bans
 * (no store access): allow-listed clients skip every rule; deny-listed and permanently banned ones
 * get 403; blocked ones get 429 until the block ends. Routes without rules, and requests
 * `shouldSkip` lets through, are not looked up. A request denied by a rule's algorithm is a
 * violation: it is recorded and may start a block or a ban (the escalation policy), which then
 * answers this very request.
 *
 * Subclass it to change how clients are identified or how a denial is reported: `getClientAddress`,
 * `getTracker`, `generateKey`, `shouldSkip`, `throwRateLimitException`, `throwClientBlockedException`
 * and `throwClientBannedException` are the hooks.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly peerAddresses = new Map<string, string | null>();
  private readonly addressKeys = new Map<string, string>();
  private lastHashed: { tracker: string; key: string } | undefined;
  /** `RateLimit-Policy` of each route, which only changes with the rules that were counted. */
  private readonly policies = new WeakMap<RouteRules, string>();
  /** Counts requests while the store is down, with `storeFallback` (created on the first outage). */
  private fallbackStore: MemoryRateLimitStore | undefined;

  constructor(
    @Inject(RATE_LIMIT_CONFIG) protected readonly config: RateLimitConfig,
    protected readonly routeRules: RouteRulesResolver,
    protected readonly protection: ProtectionService,
  ) {}

  /**
   * Answers synchronously (a boolean) when every step does: the memory store, resolvers that return
   * plain values and a request that records no violation. Otherwise a promise. Errors always come
   * back as a rejected promise.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    try {
      if (context.getType() !== 'http') return true;
      const route = this.routeRules.resolve(context.getHandler() as (...args: unknown[]) => unknown, context.getClass() as Type);
      if (route.rules.length === 0) return true;
      const skip = this.shouldSkip(context);
      if (isThenable(skip)) return skip.then((skipped) => (skipped ? true : this.activate(context, route)));
      return skip ? true : this.activate(context, route);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Identifies the client, applies bans and lists, then counts the request against the route's rules. */
  private activate(context: ExecutionContext, route: RouteRules): boolean | Promise<boolean> {
    // What switchToHttp().getRequest() and getResponse() return, without the object switchToHttp builds.
    const request = context.getArgByIndex<unknown>(0);
    const response = context.getArgByIndex<unknown>(1);
    const nowMs = this.config.clock.now();
    const address = this.getClientAddress(request);
    // The default getTracker, inlined so that a synchronous key resolver costs no promise.
    const tracker =
      this.getTracker === RateLimitGuard.prototype.getTracker
        ? this.defaultTracker(context, request, address)
        : this.getTracker(context, request, address);
    if (isThenable(tracker)) return tracker.then((t) => this.decide(context, route, request, response, nowMs, address, t));
    return this.decide(context, route, request, response, nowMs, address, tracker);
  }

  private decide(
    context: ExecutionContext,
    route: RouteRules,
    request: unknown,
    response: unknown,
    nowMs: number,
    address: string | null,
    tracker: string,
  ): boolean | Promise<boolean> {
    const clientKey = this.clientKey(tracker);
    const verdict = this.protection.check(clientKey, address, nowMs);
    if (verdict.status === 'allow-listed') return true;
    if (verdict.status !== 'none') return this.refuse(context, response, verdict, nowMs);

    const store = this.config.store;
    if (route.plain && store instanceof MemoryRateLimitStore && store.consume === MemoryRateLimitStore.prototype.consume) {
      // The memory store decides synchronously: no promise, no timer.
      const counted: RuleResult[] = [];
      let storeDenied = false;
      const { rules } = route;
      for (let i = 0; i < rules.length; i++) {
        const routeRule = rules[i];
        const { rule } = routeRule;
        const cost = rule.cost as number;
        const result = this.consumeNow(store, this.generateKey(context, tracker, routeRule), rule, nowMs, cost);
        if (result === 'allow') continue;
        if (result === 'deny') storeDenied = true;
        else counted.push(ruleResult(routeRule, clientKey, cost, result));
      }
      return this.conclude(context, request, response, route, counted, undefined, storeDenied, address, nowMs);
    }
    if (route.plain && route.rules.length === 1) {
      // One store call: its answer is the request's.
      const routeRule = route.rules[0];
      const cost = routeRule.rule.cost as number;
      return this.consume(this.generateKey(context, tracker, routeRule), routeRule.rule, nowMs, cost).then((result) => {
        const counted = result === 'allow' || result === 'deny' ? [] : [ruleResult(routeRule, clientKey, cost, result)];
        return this.conclude(context, request, response, route, counted, undefined, result === 'deny', address, nowMs);
      });
    }
    return this.countAll(context, request, response, route, nowMs, address, tracker, clientKey);
  }

  /** Counts the request against every rule of the route, each with its own store call, concurrently. */
  private async countAll(
    context: ExecutionContext,
    request: unknown,
    response: unknown,
    route: RouteRules,
    nowMs: number,
    address: string | null,
    tracker: string,
    clientKey: string,
  ): Promise<boolean> {
    let refusal: ProtectionVerdict | undefined;
    let storeDenied = false;
    const countOne = async (routeRule: RouteRule): Promise<RuleResult | undefined> => {
      const { rule } = routeRule;
      if (rule.skipIf && (await rule.skipIf(context))) return undefined;
      let ruleTracker = tracker;
      let ruleClientKey = clientKey;
      if (rule.keyResolver) {
        ruleTracker = identityText(await rule.keyResolver(context)) ?? tracker;
        if (ruleTracker !== tracker) {
          // A rule's own identity (an API key...) may be banned too: refused, it is not counted.
          ruleClientKey = this.clientKey(ruleTracker);
          const ruleVerdict = this.protection.checkKey(ruleClientKey, nowMs);
          if (ruleVerdict.status !== 'none') {
            refusal ??= ruleVerdict;
            return undefined;
          }
        }
      }
      const cost = typeof rule.cost === 'number' ? rule.cost : requestCost(await rule.cost(context), rule.storeRule);
      const key = this.generateKey(context, ruleTracker, routeRule);
      const result = await this.consume(key, rule, nowMs, cost);
      if (result === 'allow') return undefined;
      if (result === 'deny') {
        storeDenied = true;
        return undefined;
      }
      return ruleResult(routeRule, ruleClientKey, cost, result);
    };
    const { rules } = route;
    let counted: RuleResult[];
    if (rules.length === 1) {
      const only = await countOne(rules[0]);
      counted = only === undefined ? [] : [only];
    } else {
      counted = (await Promise.all(rules.map(countOne))).filter((r): r is RuleResult => r !== undefined);
    }
    return this.conclude(context, request, response, route, counted, refusal, storeDenied, address, nowMs);
  }

  /** Answers from the rules' results: headers, then a refusal, a denial (recorded as a violation) or true. */
  private conclude(
    context: ExecutionContext,
    request: unknown,
    response: unknown,
    route: RouteRules,
    counted: RuleResult[],
    refusal: ProtectionVerdict | undefined,
    storeDenied: boolean,
    address: string | null,
    nowMs: number,
  ): boolean | Promise<boolean> {
    if (refusal) return this.refuse(context, response, refusal, nowMs);
    if (storeDenied) {
      setHeader(response, 'Retry-After', '1');
      return this.throwStoreUnavailableException(context);
    }
    if (counted.length === 0) return true;
    this.writeHeaders(response, counted, nowMs, counted.length === route.rules.length ? route : undefined);

    let violated: RuleResult | undefined;
    for (let i = 0; i < counted.length; i++) {
      const r = counted[i];
      if (!r.result.allowed && (!violated || r.result.retryAfterMs > violated.result.retryAfterMs)) violated = r;
    }
    if (!violated) return true;
    return this.deny(context, request, response, route, counted, violated, address, nowMs);
  }

  /** A rule denied: the violation is recorded (it may escalate) and the request refused. */
  private async deny(
    context: ExecutionContext,
    request: unknown,
    response: unknown,
    route: RouteRules,
    counted: readonly RuleResult[],
    violated: RuleResult,
    address: string | null,
    nowMs: number,
  ): Promise<never> {
    const outcome = await this.recordViolations(request, route, counted, address, nowMs);
    if (outcome.action === 'ban') return this.refuse(context, response, { status: 'banned', ban: outcome.ban }, nowMs);
    if (outcome.action === 'block') return this.refuse(context, response, { status: 'blocked', ban: outcome.ban, untilMs: outcome.untilMs }, nowMs);
    const retryAfterSeconds = Math.max(1, Math.ceil(violated.result.retryAfterMs / 1000));
    setHeader(response, 'Retry-After', String(retryAfterSeconds));
    const { rule } = violated.routeRule;
    return this.throwRateLimitException(context, {
      rule: rule.name,
      limit: violated.limit,
      windowMs: rule.windowMs,
      retryAfterSeconds,
      ...(violated.result.blockedUntilMs !== undefined ? { blockedUntilMs: violated.result.blockedUntilMs } : {}),
    });
  }

  /** Return true to let this request through every rule without counting it. */
  protected shouldSkip(context: ExecutionContext): boolean | Promise<boolean> {
    return this.config.skipIf ? this.config.skipIf(context) : false;
  }

  /**
   * The client address in canonical form (the socket peer, or a forwarded address from a trusted
   * proxy); null when it cannot be known. Allow/deny lists and range bans match it.
   */
  protected getClientAddress(request: unknown): string | null {
    const peer = peerAddress(request);
    if (this.config.trust !== null || peer === undefined) return resolveClientAddress(peer, requestHeaders(request), this.config.trust);
    // Without trusted proxies the address depends on the peer alone: parse each peer once.
    let address = this.peerAddresses.get(peer);
    if (address === undefined) {
      address = resolveClientAddress(peer, {}, null);
      if (this.peerAddresses.size >= PEER_CACHE_SIZE) this.peerAddresses.clear();
      this.peerAddresses.set(peer, address);
    }
    return address;
  }

  /**
   * The client's identity: the module's `keyResolver` when it returns something, otherwise the
   * client address with IPv6 grouped by `ipv6PrefixLength`. Clients whose address cannot be known
   * share the key `unknown`. Bans by key match what this returns.
   *
   * @param address what `getClientAddress` returned for this request
   */
  protected async getTracker(context: ExecutionContext, request: unknown, address?: string | null): Promise<string> {
    return this.defaultTracker(context, request, address);
  }

  /** `getTracker`'s answer, synchronous unless the module's `keyResolver` returns a promise. */
  private defaultTracker(context: ExecutionContext, request: unknown, address?: string | null): string | Promise<string> {
    if (this.config.keyResolver) {
      const resolved = this.config.keyResolver(context);
      if (isThenable(resolved)) return resolved.then((value) => identityText(value) ?? this.addressTracker(request, address));
      const key = identityText(resolved);
      if (key !== undefined) return key;
    }
    return this.addressTracker(request, address);
  }

  /** The client address as a tracker: IPv6 grouped by `ipv6PrefixLength`, `unknown` when there is none. */
  private addressTracker(request: unknown, address?: string | null): string {
    const resolved = address === undefined ? this.getClientAddress(request) : address;
    if (resolved === null) return 'unknown';
    // The key of an address never changes (IPv6 is masked to its prefix): compute it once per address.
    let key = this.addressKeys.get(resolved);
    if (key === undefined) {
      key = clientKeyForAddress(resolved, this.config.ipv6PrefixLength);
      if (this.addressKeys.size >= PEER_CACHE_SIZE) this.addressKeys.clear();
      this.addressKeys.set(resolved, key);
    }
    return key;
  }

  /**
   * The store key of one client under one rule: `<rule>:<scope or Controller.handler>:<client>`,
   * the client hashed when longer than 128 characters.
   */
  protected generateKey(_context: ExecutionContext, tracker: string, routeRule: RouteRule): string {
    return routeRule.keyPrefix + this.clientKey(tracker);
  }

  /** Reports a denial. The default throws `RateLimitExceededException` (429, problem details). */
  protected throwRateLimitException(_context: ExecutionContext, violation: RateLimitViolation): never {
    const { errorMessage } = this.config;
    const detail =
      typeof errorMessage === 'string'
        ? errorMessage
        : typeof errorMessage === 'function'
          ? errorMessage(violation)
          : defaultViolationDetail(violation.rule, violation.limit, violation.windowMs, violation.retryAfterSeconds);
    throw new RateLimitExceededException(violation, detail);
  }

  /**
   * Answers a client that is inside a temporary block (escalation or operator). `Retry-After` is
   * already set. The default throws `ClientBlockedException` (429, problem details naming the end).
   */
  protected throwClientBlockedException(_context: ExecutionContext, block: ClientBlock): never {
    throw new ClientBlockedException(block, blockedDetail(new Date(block.untilMs).toISOString(), block.retryAfterSeconds));
  }

  /**
   * Answers a client that is permanently banned or deny-listed. The default throws
   * `ClientBannedException` (403, problem details naming the reason).
   */
  protected throwClientBannedException(_context: ExecutionContext, reason: ClientBanReason): never {
    throw new ClientBannedException(reason, reason === 'banned' ? bannedDetail() : denyListedDetail());
  }

  /**
   * Answers a request that a rule with `onStoreError: 'deny'` refuses while the store is down.
   * `Retry-After: 1` is already set. The default throws `StoreUnavailableException` (503, problem details).
   */
  protected throwStoreUnavailableException(_context: ExecutionContext): never {
    throw new StoreUnavailableException(storeUnavailableDetail(), 1);
  }

  /**
   * One rule's decision from the store, waiting at most `storeTimeoutMs`. When the store fails or
   * times out: the fallback memory store's decision with `storeFallback`, otherwise the rule's
   * `onStoreError` policy. While the store is down, requests do not call it and are answered at
   * once; the background probe (StoreHealth) brings it back.
   */
  private consume(key: string, rule: ResolvedRule, nowMs: number, cost: number): Promise<ConsumeResult | 'allow' | 'deny'> {
    const { store, storeTimeoutMs } = this.config;
    const health = this.protection.storeHealth;
    const call = health.begin();
    if (call === undefined) return Promise.resolve(this.withoutStore(key, rule, nowMs, cost));
    return new Promise((resolve) =>
      settleWithin(
        () => store.consume(key, rule.storeRule, nowMs, cost),
        storeTimeoutMs,
        (result) => {
          health.succeeded(call);
          resolve(result);
        },
        (error) => {
          health.failed(call, error);
          resolve(this.withoutStore(key, rule, nowMs, cost));
        },
      ),
    );
  }

  /** `consume` for the memory store, which answers synchronously and so can never time out. */
  private consumeNow(store: MemoryRateLimitStore, key: string, rule: ResolvedRule, nowMs: number, cost: number): ConsumeResult | 'allow' | 'deny' {
    const health = this.protection.storeHealth;
    const call = health.begin();
    if (call !== undefined) {
      try {
        const result = store.consumeSync(key, rule.storeRule, nowMs, cost);
        health.succeeded(call);
        return result;
      } catch (error) {
        health.failed(call, error);
      }
    }
    return this.withoutStore(key, rule, nowMs, cost);
  }

  /** The answer while the store is down or failed: the fallback memory store's, or the outage policy. */
  private withoutStore(key: string, rule: ResolvedRule, nowMs: number, cost: number): ConsumeResult | 'allow' | 'deny' {
    if (this.config.storeFallback) {
      this.fallbackStore ??= new MemoryRateLimitStore();
      return this.fallbackStore.consumeSync(key, rule.storeRule, nowMs, cost);
    }
    return rule.onStoreError ?? this.config.onStoreError;
  }

  private refuse(context: ExecutionContext, response: unknown, verdict: ProtectionVerdict, nowMs: number): never {
    switch (verdict.status) {
      case 'blocked': {
        const retryAfterSeconds = Math.max(1, Math.ceil((verdict.untilMs - nowMs) / 1000));
        setHeader(response, 'Retry-After', String(retryAfterSeconds));
        return this.throwClientBlockedException(context, { untilMs: verdict.untilMs, retryAfterSeconds });
      }
      case 'banned':
        return this.throwClientBannedException(context, 'banned');
      case 'deny-listed':
        return this.throwClientBannedException(context, 'deny-listed');
      default:
        throw new Error(`Unexpected protection verdict ${verdict.status}`);
    }
  }

  /**
   * Records the violations of this request: one per client key, for the rule whose algorithm
   * denied with the longest wait (requests denied by a running block are not violations). Returns
   * the strongest escalation that followed.
   */
  private async recordViolations(
    request: unknown,
    route: RouteRules,
    counted: readonly RuleResult[],
    address: string | null,
    nowMs: number,
  ): Promise<ViolationOutcome> {
    const byKey = new Map<string, RuleResult>();
    for (const r of counted) {
      if (r.result.allowed || r.result.ongoingBlock) continue;
      const seen = byKey.get(r.clientKey);
      if (!seen || r.result.retryAfterMs > seen.result.retryAfterMs) byKey.set(r.clientKey, r);
    }
    if (byKey.size === 0) return NO_OUTCOME;
    const method = (request as { method?: string }).method ?? 'GET';
    const outcomes = await Promise.all(
      [...byKey.values()].map(({ routeRule: { rule }, clientKey, cost, result }) =>
        this.protection.recordViolation({
          key: clientKey,
          address,
          rule: rule.name,
          route: rule.scope ?? route.routeKey,
          method,
          hits: result.limit + cost,
          limit: result.limit,
          nowMs,
          escalation: ruleEscalation(this.config, rule),
        }),
      ),
    );
    const weight = (o: ViolationOutcome) => (o.action === 'ban' ? Infinity : o.action === 'block' ? o.untilMs : -Infinity);
    return outcomes.reduce((a, b) => (weight(b) > weight(a) ? b : a), NO_OUTCOME);
  }

  /** A tracker as stored: hashed when longer than MAX_CLIENT_KEY_LENGTH. */
  private clientKey(tracker: string): string {
    if (tracker.length <= MAX_CLIENT_KEY_LENGTH) return tracker;
    // A request asks for the key of its tracker once for the ban check and once per rule: hash it once.
    if (tracker !== this.lastHashed?.tracker) {
      this.lastHashed = { tracker, key: `sha256:${createHash('sha256').update(tracker).digest('base64url')}` };
    }
    return this.lastHashed.key;
  }

  /** The policy header of `items`, formatted once per route when every rule of the route was counted. */
  private policyHeader(items: readonly RuleResult[], route: RouteRules | undefined): string {
    if (route === undefined) return formatRateLimitPolicy(items);
    let policy = this.policies.get(route);
    if (policy === undefined) {
      policy = formatRateLimitPolicy(items);
      this.policies.set(route, policy);
    }
    return policy;
  }

  private writeHeaders(response: unknown, items: readonly RuleResult[], nowMs: number, route?: RouteRules): void {
    // A Node response (Express's is one) takes string headers directly; Express's `res.header` would
    // only convert the value to a string and look for Content-Type first. A Fastify reply needs `header`.
    const set = response instanceof ServerResponse ? setNodeHeader : setHeader;
    if (this.config.standardHeaders) {
      set(response, 'RateLimit-Policy', this.policyHeader(items, route));
      set(response, 'RateLimit', formatRateLimit(items, nowMs));
    }
    if (this.config.legacyHeaders) {
      const item = mostRestrictive(items);
      if (item) {
        set(response, 'X-RateLimit-Limit', String(item.limit));
        set(response, 'X-RateLimit-Remaining', String(item.remaining));
        set(response, 'X-RateLimit-Reset', String(secondsUntil(item.resetAtMs, nowMs)));
      }
    }
  }
}
