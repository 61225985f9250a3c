import { Inject, Injectable, type CanActivate, type ExecutionContext, type HttpException } from '@nestjs/common';
import { settleOnResponse } from './outcome/http-outcome.js';
import { OutcomeFirstGuard } from './outcome/outcome-first.guard.js';
import { httpTarget } from './route-target.js';
import { isThenable } from './core/thenable.js';
import { Rampart } from './engine/rampart.js';
import type { RampartRequest, StoreKeyHook } from './engine/rampart-request.js';
import type { TargetRule, TargetRules } from './engine/target-rules.js';
import { retryAfterSeconds, type Verdict } from './engine/verdict.js';
import { ClientBannedException, type ClientBanReason } from './errors/client-banned.exception.js';
import { ClientBlockedException, type ClientBlock } from './errors/client-blocked.exception.js';
import { ClientUnidentifiedException } from './errors/client-unidentified.exception.js';
import { isIdentityError, type IdentityError } from './errors/identity.error.js';
import { bannedDetail, blockedDetail, defaultViolationDetail, denyListedDetail, storeUnavailableDetail } from './errors/messages.js';
import { StoreUnavailableException } from './errors/store-unavailable.exception.js';
import { peerSocket, requestHeaders, setHeader } from './http-exchange.js';
import type { RateLimitConfig } from './rate-limit.config.js';
import { RATE_LIMIT_CONFIG } from './rate-limit.constants.js';
import { RateLimitExceededException } from './rate-limit.exception.js';
import type { RateLimitViolation } from './rate-limit-options.interface.js';
import { ProtocolAdapters, type ProtocolName } from './protocol-adapters.js';
import type { Denial } from './responses/custom-response.interface.js';
import { RefusalResponses } from './responses/refusal-responses.js';
import { RouteRulesResolver } from './route-rules.resolver.js';

/** The request as the engine sees it; its identity is set once `getTracker` has answered. */
type Request = RampartRequest<ExecutionContext>;
type Described = { -readonly [K in keyof Request]: Request[K] } & { context: ExecutionContext; target: TargetRules<ExecutionContext> };

/** What a refusal's default hook tells `denialResponse`, besides the default response. */
type DenialFacts = Omit<Denial, 'status' | 'body'>;

/**
 * Counts each HTTP request against the rules of its route and answers 429 when one is exceeded;
 * the HTTP adapter of Rampart's engine. Messages to WebSocket gateways (`@nestjs/websockets`) are
 * counted against their handler's rules too, and refused with a `WsException` (see
 * `WsRateLimitError`); so are GraphQL resolvers (`@nestjs/graphql`), keyed by schema field and
 * refused with a GraphQL error (see `GraphqlRateLimitCode`), and calls of microservice handlers on
 * the TCP and gRPC transports, refused with an `RpcException` (see `RpcRateLimitError` and
 * `GRPC_REFUSAL_TRAILERS`). Other contexts (other transports) pass through untouched.
 *
 * Allow-listed clients skip every rule; deny-listed and permanently banned ones get 403; blocked
 * ones get 429 until the block ends. A request denied by a rule's algorithm is a violation: it is
 * recorded and may start a block or a ban (the escalation policy), which then answers this very
 * request. On routes without rules (or under `@SkipThrottle()`) only the lists, bans and blocks are
 * checked, unless `enforceBans` is `'limited-routes'`; requests `shouldSkip` lets through are not
 * looked up, and neither are the admin API's routes.
 *
 * A key or group resolver that cannot tell who the client is (it throws an `IdentityError`: an
 * invalid token) gets the request refused with 401 (`throwIdentityErrorException`), never admitted.
 * The default answers can be replaced by the module's `denialResponse` and `identityErrorResponse`.
 *
 * Subclass it to change how clients are identified or how a denial is reported: `getClientAddress`,
 * `getTracker`, `generateKey`, `shouldSkip`, `throwRateLimitException`, `throwClientBlockedException`,
 * `throwClientBannedException`, `throwStoreUnavailableException` and `throwIdentityErrorException`
 * are the hooks.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  /** `generateKey`, as the engine calls it for each rule. */
  private readonly storeKey: StoreKeyHook<ExecutionContext> = (context, identity, rule) => this.generateKey(context as ExecutionContext, identity, rule);
  /** The adapters of WebSocket gateways, GraphQL resolvers and microservice handlers, loaded on first use. */
  private readonly adapters: ProtocolAdapters;
  /** The default answers to refusals, or the app's own (`denialResponse`, `identityErrorResponse`). */
  private readonly responses: RefusalResponses;

  constructor(
    @Inject(RATE_LIMIT_CONFIG) protected readonly config: RateLimitConfig,
    protected readonly routeRules: RouteRulesResolver,
    protected readonly rampart: Rampart<ExecutionContext>,
  ) {
    this.adapters = new ProtocolAdapters(rampart, routeRules);
    this.responses = new RefusalResponses(config.logger);
  }

  /**
   * Answers synchronously (a boolean) when every step does: a store that answers synchronously
   * (memory), hooks that return plain values and a request that records no violation. Otherwise a
   * promise. Refusals always come back as a rejected promise.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    try {
      // The configuration in force: a reload swaps its routes and `enabled`.
      const { enabled, routes } = this.rampart.config as RateLimitConfig;
      if (!enabled) return true;
      const type = context.getType<string>();
      if (type !== 'http') return this.activateProtocol(type, context);
      const rules = httpTarget(this.routeRules, routes, context);
      // A route whose outcome-aware rules were decided ahead of the app's guards (see OutcomeFirstGuard).
      if (rules === undefined || (rules.outcomes && OutcomeFirstGuard.took(context))) return true;
      if (rules.rules.length === 0 && this.config.enforceBans === 'limited-routes') return true;
      const skip = this.shouldSkip(context);
      if (isThenable(skip)) return Promise.resolve(skip).then((skipped) => skipped || this.activate(context, rules));
      return skip || this.activate(context, rules);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * A call of another protocol's handler: a WebSocket gateway's message (`Gateway.handler`), a
   * GraphQL resolver's (keyed by schema field), a microservice handler's (`@MessagePattern`,
   * `@EventPattern`, `@GrpcMethod`). Counted against its handler's rules by the protocol's adapter,
   * loaded on first use; once it is, synchronous whenever the decision is (the memory store).
   * Contexts of other classes and handlers pass through.
   */
  private activateProtocol(type: string, context: ExecutionContext): boolean | Promise<boolean> {
    const rules = this.adapters.rulesOf(type, context);
    if (rules === undefined || rules.exempt || (rules.outcomes && OutcomeFirstGuard.took(context))) return true;
    if (rules.rules.length === 0 && this.config.enforceBans === 'limited-routes') return true;
    const limiter = this.adapters.limiter(type as ProtocolName);
    if (isThenable(limiter)) return Promise.resolve(limiter).then(() => this.activateProtocol(type, context));
    const skip = this.shouldSkip(context);
    if (isThenable(skip)) return Promise.resolve(skip).then((skipped) => skipped || limiter.activate(context, rules, this.storeKey));
    return skip || limiter.activate(context, rules, this.storeKey);
  }

  /** Describes the request to the engine and answers from its verdict. */
  private activate(context: ExecutionContext, rules: TargetRules<ExecutionContext>): boolean | Promise<boolean> {
    // What switchToHttp().getRequest() returns, without the object switchToHttp builds.
    const request = context.getArgByIndex<{ method?: string }>(0);
    const address = this.getClientAddress(request);
    const described: Described = {
      target: rules,
      address,
      method: request.method ?? 'GET',
      protocol: 'http',
      context,
      storeKey: this.storeKey,
      skipChecked: true,
    };
    let identity: string | Promise<string>;
    try {
      identity = this.getTracker(context, request, address);
    } catch (error) {
      return this.unidentified(described, error);
    }
    if (isThenable(identity))
      return Promise.resolve(identity).then(
        (id) => this.decide(described, id),
        (error: unknown) => this.unidentified(described, error),
      );
    return this.decide(described, identity);
  }

  private decide(described: Described, identity: string): boolean | Promise<boolean> {
    described.identity = identity;
    const verdict = this.rampart.engine.decide(described);
    // The engine rejects (never throws) when a hook fails: the group resolver's IdentityError among them.
    if (isThenable(verdict))
      return Promise.resolve(verdict).then(
        (v) => this.answer(described, v),
        (error: unknown) => this.unidentified(described, error),
      );
    return this.answer(described, verdict);
  }

  /**
   * A resolver that could not tell who the client is (an `IdentityError`): refused by
   * `throwIdentityErrorException` where a rule counts the request; where only bans and lists are
   * checked (no rules), known by its address. Other errors pass.
   */
  private unidentified(described: Described, error: unknown): boolean | Promise<boolean> {
    if (!isIdentityError(error)) throw error;
    if (described.target.rules.length === 0 && described.identity === undefined)
      return this.decide(described, this.rampart.engine.identity.addressIdentity(described.address));
    return this.throwIdentityErrorException(described.context, error);
  }

  /** Writes the verdict's headers, then lets the request through or throws its refusal (settled by its response, or at once, under `countIf` rules). */
  private answer(described: Described, verdict: Verdict<ExecutionContext>): true {
    const { context } = described;
    this.rampart.headers.write(verdict, context.getArgByIndex<unknown>(1), setHeader);
    if (described.target.outcomes) settleOnResponse(this.rampart, described, verdict);
    switch (verdict.outcome) {
      case 'admitted':
        return true;
      case 'limited': {
        const { result, targetRule } = verdict.rule;
        const { rule } = targetRule;
        return this.throwRateLimitException(context, {
          rule: rule.name,
          limit: result.limit,
          windowMs: verdict.rule.windowMs,
          retryAfterSeconds: retryAfterSeconds(verdict) as number,
          ...(result.blockedUntilMs !== undefined ? { blockedUntilMs: result.blockedUntilMs } : {}),
        });
      }
      case 'blocked':
        return this.throwClientBlockedException(context, { untilMs: verdict.untilMs, retryAfterSeconds: retryAfterSeconds(verdict) as number });
      case 'banned':
        return this.throwClientBannedException(context, verdict.reason);
      case 'unavailable':
        return this.throwStoreUnavailableException(context);
    }
  }

  /** Return true to let this request through every rule without counting it. */
  protected shouldSkip(context: ExecutionContext): boolean | Promise<boolean> {
    return this.config.skipIf ? this.config.skipIf(context) : false;
  }

  /**
   * The client address in canonical form (the socket peer, or a forwarded address from a trusted
   * proxy); null when it cannot be known. Allow/deny lists and range bans match it. A connection
   * reset before the request is decided keeps the peer address it was accepted with.
   */
  protected getClientAddress(request: unknown): string | null {
    const { identity } = this.rampart.engine;
    return identity.clientAddress(identity.peerAddress(peerSocket(request)), requestHeaders(request));
  }

  /**
   * The client's identity: the module's `keyResolver` when it returns something, otherwise the
   * client address with IPv6 grouped by `ipv6PrefixLength`. Clients whose address cannot be known
   * share the key `unknown` (counted, never escalated). May return a promise. What an override
   * returns is an identity of the resolver kind unless it is the address's own key: keyed apart
   * from every address, so a tracker taken from request data cannot get an address counted or
   * banned, while the bans of the request's address still apply.
   *
   * @param address what `getClientAddress` returned for this request
   */
  protected getTracker(context: ExecutionContext, request: unknown, address?: string | null): string | Promise<string> {
    return this.rampart.engine.identity.identify(context, address === undefined ? this.getClientAddress(request) : address);
  }

  /**
   * The store key of one client under one rule: `<rule>:<scope or Controller.handler>:<client key>`.
   * `clientKey` is the tracker's key: the address key, or the identity (`id:`-prefixed when it reads
   * like an address, hashed when longer than 128 characters). The admin API reads counters by the
   * same keys (calling this without a context; an override that needs one falls back to the default).
   */
  protected generateKey(_context: ExecutionContext, clientKey: string, rule: TargetRule<ExecutionContext>): string {
    return this.rampart.engine.defaultStoreKey(rule, clientKey);
  }

  /**
   * Reports a denial. The default throws `RateLimitExceededException` (429, problem details served
   * as `application/problem+json`).
   */
  protected throwRateLimitException(context: ExecutionContext, violation: RateLimitViolation): never {
    const { errorMessage } = this.config;
    const detail =
      typeof errorMessage === 'string'
        ? errorMessage
        : typeof errorMessage === 'function'
          ? errorMessage(violation)
          : defaultViolationDetail(violation.rule, violation.limit, violation.windowMs, violation.retryAfterSeconds);
    return this.refuse(context, new RateLimitExceededException(violation, detail), { reason: 'limited', ...violation });
  }

  /**
   * Answers a client that is inside a temporary block (escalation or operator). `Retry-After` is
   * already set. The default throws `ClientBlockedException` (429, problem details naming the end).
   */
  protected throwClientBlockedException(context: ExecutionContext, block: ClientBlock): never {
    const exception = new ClientBlockedException(block, blockedDetail(new Date(block.untilMs).toISOString(), block.retryAfterSeconds));
    return this.refuse(context, exception, { reason: 'blocked', retryAfterSeconds: block.retryAfterSeconds, blockedUntilMs: block.untilMs });
  }

  /**
   * Answers a client that is permanently banned or deny-listed. The default throws
   * `ClientBannedException` (403, problem details naming the reason).
   */
  protected throwClientBannedException(context: ExecutionContext, reason: ClientBanReason): never {
    return this.refuse(context, new ClientBannedException(reason, reason === 'banned' ? bannedDetail() : denyListedDetail()), { reason });
  }

  /**
   * Answers a request that a rule with `onStoreError: 'deny'` refuses while the store is down.
   * `Retry-After: 1` is already set. The default throws `StoreUnavailableException` (503, problem details).
   */
  protected throwStoreUnavailableException(context: ExecutionContext): never {
    return this.refuse(context, new StoreUnavailableException(storeUnavailableDetail(), 1), { reason: 'unavailable', retryAfterSeconds: 1 });
  }

  /**
   * Answers a request whose key or group resolver threw an `IdentityError` (a token that is present
   * but invalid, a session required but without a user): nothing was counted. The default throws
   * `ClientUnidentifiedException` (401, problem details whose `detail` is the error's message), with
   * the error's `WWW-Authenticate` challenge, or the module's `identityErrorResponse`.
   */
  protected throwIdentityErrorException(context: ExecutionContext, error: IdentityError): never {
    if (error.challenge !== undefined) setHeader(context.getArgByIndex<unknown>(1), 'WWW-Authenticate', error.challenge);
    const custom = this.config.identityErrorResponse;
    return this.responses.refuse(context, new ClientUnidentifiedException(error.message), 'identityErrorResponse', custom && (() => custom(error, context)));
  }

  /** Throws a refusal: the module's `denialResponse`, when it gives one, else `exception` (problem details). */
  private refuse(context: ExecutionContext, exception: HttpException, facts: DenialFacts): never {
    const custom = this.config.denialResponse;
    const denial = custom && (() => custom({ ...facts, status: exception.getStatus(), body: exception.getResponse() as Record<string, unknown> }, context));
    return this.responses.refuse(context, exception, 'denialResponse', denial);
  }
}
