import { Inject, Injectable, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { formatRateLimit, formatRateLimitPolicy, mostRestrictive, secondsUntil, type HeaderItem } from './core/headers.js';
import { resolveClientAddress } from './core/ip/client-address.js';
import { clientKeyForAddress } from './core/ip/client-key.js';
import type { ConsumeResult } from './core/rule-decision.js';
import { defaultViolationDetail } from './errors/messages.js';
import { peerAddress, requestHeaders, setHeader } from './http-exchange.js';
import type { RateLimitConfig } from './rate-limit.config.js';
import { RATE_LIMIT_CONFIG } from './rate-limit.constants.js';
import { RateLimitExceededException } from './rate-limit.exception.js';
import type { RateLimitViolation } from './rate-limit-options.interface.js';
import { RouteRulesResolver, type RouteRule } from './route-rules.resolver.js';

/** Client keys longer than this are stored as a hash, so hostile identities cannot bloat the store. */
const MAX_CLIENT_KEY_LENGTH = 128;

interface RuleResult extends HeaderItem {
  readonly routeRule: RouteRule;
  readonly result: ConsumeResult;
}

/**
 * Counts each HTTP request against the rules of its route and answers 429 when one is exceeded.
 * Other contexts (WebSocket, microservices, GraphQL resolvers) pass through untouched.
 *
 * Subclass it to change how clients are identified or how a denial is reported: `getTracker`,
 * `generateKey`, `shouldSkip` and `throwRateLimitException` are the hooks.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    @Inject(RATE_LIMIT_CONFIG) protected readonly config: RateLimitConfig,
    protected readonly routeRules: RouteRulesResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const route = this.routeRules.resolve(context.getHandler() as (...args: unknown[]) => unknown, context.getClass() as Type);
    if (route.rules.length === 0 || (await this.shouldSkip(context))) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<unknown>();
    const response = http.getResponse<unknown>();
    const nowMs = this.config.clock.now();
    let sharedTracker: Promise<string> | undefined;
    const results = await Promise.all(
      route.rules.map(async (routeRule): Promise<RuleResult | undefined> => {
        const { rule } = routeRule;
        if (rule.skipIf && (await rule.skipIf(context))) return undefined;
        const tracker = rule.keyResolver
          ? ((await rule.keyResolver(context)) || (await (sharedTracker ??= this.trackerOf(context, request))))
          : await (sharedTracker ??= this.trackerOf(context, request));
        const cost = typeof rule.cost === 'number' ? rule.cost : await rule.cost(context);
        const key = this.generateKey(context, tracker, routeRule);
        const result = await this.config.store.consume(key, rule.storeRule, nowMs, cost);
        return { routeRule, result, name: rule.name, limit: result.limit, windowMs: rule.windowMs, remaining: result.remaining, resetAtMs: result.resetAtMs };
      }),
    );
    const counted = results.filter((r): r is RuleResult => r !== undefined);
    if (counted.length === 0) return true;
    this.writeHeaders(response, counted, nowMs);

    let violated: RuleResult | undefined;
    for (const r of counted) {
      if (!r.result.allowed && (!violated || r.result.retryAfterMs > violated.result.retryAfterMs)) violated = r;
    }
    if (!violated) return true;
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
   * The client's identity: the module's `keyResolver` when it returns something, otherwise the
   * client address (the socket peer, or a forwarded address from a trusted proxy), with IPv6
   * grouped by `ipv6PrefixLength`. Clients whose address cannot be known share the key `unknown`.
   */
  protected async getTracker(context: ExecutionContext, request: unknown): Promise<string> {
    if (this.config.keyResolver) {
      const key = await this.config.keyResolver(context);
      if (key) return key;
    }
    const address = resolveClientAddress(peerAddress(request), requestHeaders(request), this.config.trust);
    return address === null ? 'unknown' : clientKeyForAddress(address, this.config.ipv6PrefixLength);
  }

  /** The store key of one client under one rule: `<rule>:<scope or Controller.handler>:<client>`. */
  protected generateKey(_context: ExecutionContext, tracker: string, routeRule: RouteRule): string {
    const client =
      tracker.length > MAX_CLIENT_KEY_LENGTH ? `sha256:${createHash('sha256').update(tracker).digest('base64url')}` : tracker;
    return routeRule.keyPrefix + client;
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

  private async trackerOf(context: ExecutionContext, request: unknown): Promise<string> {
    return this.getTracker(context, request);
  }

  private writeHeaders(response: unknown, items: readonly RuleResult[], nowMs: number): void {
    if (this.config.standardHeaders) {
      setHeader(response, 'RateLimit-Policy', formatRateLimitPolicy(items));
      setHeader(response, 'RateLimit', formatRateLimit(items, nowMs));
    }
    if (this.config.legacyHeaders) {
      const item = mostRestrictive(items);
      if (item) {
        setHeader(response, 'X-RateLimit-Limit', String(item.limit));
        setHeader(response, 'X-RateLimit-Remaining', String(item.remaining));
        setHeader(response, 'X-RateLimit-Reset', String(secondsUntil(item.resetAtMs, nowMs)));
      }
    }
  }
}
