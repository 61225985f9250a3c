import { Inject, Injectable, Optional, type ExecutionContext, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import * as messages from './errors/messages.js';
import { countIfOnGateway } from './errors/outcome-messages.js';
import { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
import type { ConcurrencyLimitMetadata, ConcurrencyPool } from './engine/concurrency-pool.js';
import { checkUniqueNames, resolveRule, type ResolvedRule } from './engine/rule-resolution.js';
import { overriddenRule } from './engine/rule-override.js';
import { exemptTarget, targetRules, type TargetRules } from './engine/target-rules.js';
import type { RateLimitConfig } from './rate-limit.config.js';
import { EXEMPT_METADATA, MODULE_CONCURRENCY, RATE_LIMIT_CONFIG, SKIP_THROTTLE_METADATA, THROTTLE_METADATA } from './rate-limit.constants.js';
import type { ThrottleRule } from './rate-limit-rule.interface.js';
import { Rampart } from './engine/rampart.js';
import { keyedByAlgorithm } from './routes/route-table.js';
import { ConcurrencyPools } from './concurrency-pools.js';

type Handler = (...args: unknown[]) => unknown;

/** Where `@Controller(path)` keeps its path (Nest's `PATH_METADATA`). */
const CONTROLLER_PATH_METADATA = 'path';
/** What `@WebSocketGateway()` marks its class with (`GATEWAY_METADATA` of @nestjs/websockets, not imported: an optional peer). */
const GATEWAY_METADATA = 'websockets:is_gateway';
/**
 * What `@MessagePattern`, `@EventPattern` and `@GrpcMethod` mark a handler with: its patterns, and
 * whether it takes messages (1) or events (2) (`PATTERN_METADATA` and `PATTERN_HANDLER_METADATA`
 * of @nestjs/microservices, not imported: an optional peer).
 */
const PATTERN_METADATA = 'microservices:pattern';
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const EVENT_HANDLER = 2;
/** The `streaming` of a `@GrpcStreamCall` handler's pattern (`GrpcMethodStreamingType.PT_STREAMING`). */
const GRPC_PASS_THROUGH = 'pt_stream';
/** What `@Resolver()` marks its class with (`RESOLVER_TYPE_METADATA` of @nestjs/graphql, not imported: an optional peer). */
const RESOLVER_METADATA = 'graphql:resolver_type';

/**
 * Works out which rules apply to a route: handler `@Throttle` over controller `@Throttle` over the
 * module's rules, minus what `@SkipThrottle` exempts. Every route is resolved once at startup, so a
 * broken decorator stops the app with a clear error instead of failing a request, and the guard
 * reads a cached answer. WebSocket gateways are resolved alike: their `@SubscribeMessage` handlers
 * are routes keyed `Gateway.handler`; GraphQL resolvers (the GraphQL adapter then counts each under
 * its schema field); and microservice handlers, `@MessagePattern` and `@EventPattern` ones keyed
 * `Controller.handler`, `@GrpcMethod` ones `Service.Method`, each with its `@ConcurrencyLimit` when
 * it has one.
 */
@Injectable()
export class RouteRulesResolver implements OnModuleInit {
  /**
   * By controller, then handler: controllers that inherit one base class share its handler
   * functions, yet each has its own decorators and its own route key.
   */
  private cache = new WeakMap<Type, WeakMap<Handler, TargetRules<ExecutionContext>>>();
  /** The app's controllers, gateways and resolvers, each with its instance (known once the module is initialised). */
  private handlers: { readonly handler: Handler; readonly controller: Type }[] = [];
  /** What each controller's route keys start with: its class name, qualified when another controller has the same name. */
  private readonly controllerKeys = new WeakMap<Type, string>();
  /** Controllers by class name, in the order they were met. */
  private readonly byClassName = new Map<string, Type[]>();
  /** The classes of the app's WebSocket gateways (providers marked by `@WebSocketGateway()`). */
  private readonly gateways = new WeakSet<Type>();
  /** The classes of the app's GraphQL resolvers (providers marked by `@Resolver()`). */
  private readonly resolvers = new WeakSet<Type>();
  private gatewayCount = 0;
  /** Rules that count outcomes already reported as not counting gateway messages. */
  private readonly warnedOutcomes = new Set<string>();
  /** The concurrency limit of each HTTP route and microservice handler. */
  private readonly pools: ConcurrencyPools;

  constructor(
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
    private readonly rampart: Rampart<ExecutionContext>,
    private readonly reflector: Reflector,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Optional() @Inject(MODULE_CONCURRENCY) moduleConcurrency?: ConcurrencyLimitMetadata,
  ) {
    const targets = { routeKey: (h: Handler, c: Type) => this.routeKey(h, c), isMicroservice: (h: Handler) => this.microserviceHandler(h) !== undefined };
    this.pools = new ConcurrencyPools(reflector, config, targets, moduleConcurrency);
  }

  onModuleInit(): void {
    const problems: string[] = [];
    const gateways = this.discovery.getProviders().filter(({ metatype }) => typeof metatype === 'function' && this.isGatewayClass(metatype as Type));
    for (const { metatype } of gateways) {
      if (!this.gateways.has(metatype as Type)) this.gatewayCount++;
      this.gateways.add(metatype as Type);
    }
    const resolvers = this.discovery
      .getProviders()
      .filter(({ metatype }) => typeof metatype === 'function' && Reflect.hasOwnMetadata(RESOLVER_METADATA, metatype as Type));
    for (const { metatype } of resolvers) this.resolvers.add(metatype as Type);
    const controllers = [...this.discovery.getControllers(), ...gateways, ...resolvers];
    for (const { metatype } of controllers) if (metatype) this.register(metatype as Type);
    for (const wrapper of controllers) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, Handler>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        this.handlers.push({ handler: prototype[method], controller: metatype as Type });
        this.resolveInto(prototype[method], metatype as Type, problems);
        this.pools.resolveInto(prototype[method], metatype as Type, problems);
      }
    }
    if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  }

  /**
   * The problems the decorators of the app's handlers would have with `rules` as the module's rules
   * (a `@Throttle` naming a rule they no longer have, without its own limit and window): what a
   * reloaded configuration is checked against before it is applied.
   */
  problemsWith(rules: readonly ResolvedRule<ExecutionContext>[]): string[] {
    const problems: string[] = [];
    for (const { handler, controller } of this.handlers) this.resolveInto(handler, controller, problems, rules, new WeakMap());
    return problems;
  }

  /** Forgets every route's rules: they are resolved again, from the module's rules in force (after a reload). */
  reset(): void {
    this.cache = new WeakMap();
  }

  /** Whether `type` is one of the app's WebSocket gateways. */
  isGateway(type: Type): boolean {
    return this.gateways.has(type);
  }

  /** Whether `type` is one of the app's GraphQL resolvers. */
  isResolver(type: Type): boolean {
    return this.resolvers.has(type);
  }

  /** Whether the app has a WebSocket gateway (known once the module is initialised). */
  get hasGateways(): boolean {
    return this.gatewayCount > 0;
  }

  /**
   * How a handler is called when it is a microservice handler Rampart limits (`@MessagePattern`,
   * `@GrpcMethod` and `@GrpcStreamMethod`: a message; `@EventPattern`: an event); undefined for any
   * other handler.
   */
  microserviceHandler(handler: Handler): 'message' | 'event' | undefined {
    const patterns = this.reflector.get<unknown>(PATTERN_METADATA, handler);
    if (patterns === undefined) return undefined;
    // A `@GrpcStreamCall` handler gets the bare call, and Nest leaves an error thrown before it
    // runs unhandled (a rejection that ends the process): such handlers are not limited.
    if (Array.isArray(patterns) && patterns.some((p) => (p as { streaming?: unknown } | null)?.streaming === GRPC_PASS_THROUGH)) return undefined;
    return this.reflector.get<number | undefined>(PATTERN_HANDLER_METADATA, handler) === EVENT_HANDLER ? 'event' : 'message';
  }

  private isGatewayClass(type: Type): boolean {
    return this.reflector.get<boolean | undefined>(GATEWAY_METADATA, type) === true;
  }

  /** The rules of the route served by `handler` in controller (or gateway) `controller`. */
  resolve(handler: Handler, controller: Type): TargetRules<ExecutionContext> {
    const cached = this.cache.get(controller)?.get(handler);
    if (cached) return cached;
    const problems: string[] = [];
    const resolved = this.resolveInto(handler, controller, problems);
    if (problems.length > 0) throw new RateLimitConfigurationError(problems);
    return resolved;
  }

  private resolveInto(
    handler: Handler,
    controller: Type,
    problems: string[],
    moduleRules: readonly ResolvedRule<ExecutionContext>[] = this.rampart.config.rules,
    cache = this.cache,
  ): TargetRules<ExecutionContext> {
    let byHandler = cache.get(controller);
    if (!byHandler) cache.set(controller, (byHandler = new WeakMap()));
    const cached = byHandler.get(handler);
    if (cached) return cached;
    const routeKey = this.routeKey(handler, controller);
    if (this.reflector.getAllAndOverride<boolean | undefined>(EXEMPT_METADATA, [handler, controller])) {
      const exempt = exemptTarget<ExecutionContext>(routeKey);
      byHandler.set(handler, exempt);
      return exempt;
    }
    const byName = new Map<string, ResolvedRule<ExecutionContext>>(moduleRules.map((r) => [r.name, r]));
    const layers: [ThrottleRule[] | undefined, string][] = [
      [this.reflector.get<ThrottleRule[]>(THROTTLE_METADATA, controller), controller.name],
      [this.reflector.get<ThrottleRule[]>(THROTTLE_METADATA, handler), routeKey],
    ];
    for (const [overrides, where] of layers) {
      if (!overrides) continue;
      checkUniqueNames(overrides, `@Throttle on ${where}`, problems);
      overrides.forEach((override, i) => {
        const name = override.name ?? 'default';
        const base = byName.get(name);
        if (!base && (override.limit === undefined || override.windowMs === undefined)) {
          problems.push(messages.incompleteRouteRule(`@Throttle on ${where}`, name));
          return;
        }
        const rule = resolveRule({ ...overriddenRule(base, override), name }, `@Throttle on ${where} [${i}]`, problems);
        // With a configuration file, keyed by its algorithm as the module rules are (see keyedByAlgorithm).
        byName.set(name, this.config.configFile !== undefined ? keyedByAlgorithm(rule) : rule);
      });
    }
    const skip = this.reflector.getAllAndOverride<boolean | string[] | undefined>(SKIP_THROTTLE_METADATA, [handler, controller]);
    const rules: ResolvedRule<ExecutionContext>[] = [];
    // Every gateway message counts under websockets.messageRate too, unless its name is overridden or skipped.
    const { messageRate } = this.config.websockets;
    if (messageRate && this.gateways.has(controller) && !byName.has(messageRate.name)) byName.set(messageRate.name, messageRate);
    if (skip !== true) {
      for (const rule of byName.values()) if (!(Array.isArray(skip) && skip.includes(rule.name))) rules.push(rule);
    }
    const counted = targetRules(routeKey, this.gateways.has(controller) ? this.withoutOutcomes(rules, routeKey) : rules);
    // `@SkipThrottle()` on the handler or its class: a configuration file's route entry does not count it either.
    const resolved = skip === true ? Object.freeze({ ...counted, skipped: true as const }) : counted;
    byHandler.set(handler, resolved);
    return resolved;
  }

  /**
   * A gateway's rules less those that count outcomes (`countIf`): a message has no outcome Rampart
   * can see, so such a rule never counts gateway messages (it would count every one). Warned once per rule.
   */
  private withoutOutcomes(rules: ResolvedRule<ExecutionContext>[], routeKey: string): ResolvedRule<ExecutionContext>[] {
    const kept = rules.filter((rule) => rule.countIf === undefined);
    for (const rule of rules) {
      if (rule.countIf === undefined || this.warnedOutcomes.has(rule.name)) continue;
      this.warnedOutcomes.add(rule.name);
      this.config.logger.warn(countIfOnGateway(rule.name, routeKey));
    }
    return kept;
  }

  /**
   * The concurrency limit of an HTTP route or a microservice handler (its own `@ConcurrencyLimit`
   * over its controller's, over the module's `concurrency` for HTTP routes); undefined when it has none.
   */
  concurrency(handler: Handler, controller: Type): ConcurrencyPool | undefined {
    return this.pools.of(handler, controller);
  }

  /** What a handler's rules count per: `Controller.handler`, or a `@GrpcMethod` handler's `Service.Method`. */
  private routeKey(handler: Handler, controller: Type): string {
    return this.grpcMethodKey(handler) ?? `${this.controllerKey(controller)}.${handler.name}`;
  }

  /** A `@GrpcMethod` handler's key: the service and method it serves (`HeroService.FindOne`), as its clients name them. */
  private grpcMethodKey(handler: Handler): string | undefined {
    const patterns = this.reflector.get<unknown>(PATTERN_METADATA, handler);
    const pattern = Array.isArray(patterns) && patterns.length === 1 ? (patterns[0] as { service?: unknown; rpc?: unknown } | null) : undefined;
    return typeof pattern?.service === 'string' && typeof pattern.rpc === 'string' ? `${pattern.service}.${pattern.rpc}` : undefined;
  }

  private register(controller: Type): void {
    const named = this.byClassName.get(controller.name);
    if (!named) this.byClassName.set(controller.name, [controller]);
    else if (!named.includes(controller)) named.push(controller);
  }

  /**
   * The first part of a controller's route keys (what its rules count per): the class name, unique
   * to it. Controllers made by a factory can share a class name; each of those is told apart by its
   * path (`ItemsController(/v1/items)`), and by its place among them when the paths are the same too.
   */
  private controllerKey(controller: Type): string {
    let key = this.controllerKeys.get(controller);
    if (key !== undefined) return key;
    this.register(controller);
    const named = this.byClassName.get(controller.name) as Type[];
    key = controller.name;
    if (named.length > 1) {
      const path = (c: Type) => [this.reflector.get<string | string[] | undefined>(CONTROLLER_PATH_METADATA, c) ?? ''].flat().join(',');
      const own = path(controller);
      key = `${controller.name}(/${own.replace(/^\/+/, '')})`;
      const samePath = named.filter((c) => path(c) === own);
      if (samePath.length > 1) key += `#${samePath.indexOf(controller) + 1}`;
    }
    this.controllerKeys.set(controller, key);
    return key;
  }
}
