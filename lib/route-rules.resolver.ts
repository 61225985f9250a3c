import { Inject, Injectable, type ExecutionContext, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import * as messages from './errors/messages.js';
import { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
import { checkUniqueNames, resolveRule, type ResolvedRule } from './engine/rule-resolution.js';
import { targetRules, type TargetRules } from './engine/target-rules.js';
import type { RateLimitConfig } from './rate-limit.config.js';
import { RATE_LIMIT_CONFIG, SKIP_THROTTLE_METADATA, THROTTLE_METADATA } from './rate-limit.constants.js';
import type { ThrottleRule } from './rate-limit-rule.interface.js';

type Handler = (...args: unknown[]) => unknown;

/**
 * Works out which rules apply to a route: handler `@Throttle` over controller `@Throttle` over the
 * module's rules, minus what `@SkipThrottle` exempts. Every route is resolved once at startup, so a
 * broken decorator stops the app with a clear error instead of failing a request, and the guard
 * reads a cached answer.
 */
@Injectable()
export class RouteRulesResolver implements OnModuleInit {
  /**
   * By controller, then handler: controllers that inherit one base class share its handler
   * functions, yet each has its own decorators and its own route key.
   */
  private readonly cache = new WeakMap<Type, WeakMap<Handler, TargetRules<ExecutionContext>>>();

  constructor(
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
    private readonly reflector: Reflector,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    const problems: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, Handler>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        this.resolveInto(prototype[method], metatype as Type, problems);
      }
    }
    if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  }

  /** The rules of the route served by `handler` in controller `controller`. */
  resolve(handler: Handler, controller: Type): TargetRules<ExecutionContext> {
    const cached = this.cache.get(controller)?.get(handler);
    if (cached) return cached;
    const problems: string[] = [];
    const resolved = this.resolveInto(handler, controller, problems);
    if (problems.length > 0) throw new RateLimitConfigurationError(problems);
    return resolved;
  }

  private resolveInto(handler: Handler, controller: Type, problems: string[]): TargetRules<ExecutionContext> {
    let byHandler = this.cache.get(controller);
    if (!byHandler) this.cache.set(controller, (byHandler = new WeakMap()));
    const cached = byHandler.get(handler);
    if (cached) return cached;
    const routeKey = `${controller.name}.${handler.name}`;
    const byName = new Map<string, ResolvedRule<ExecutionContext>>(this.config.rules.map((r) => [r.name, r]));
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
        const { storeRule: _ignored, ...baseFields } = base ?? ({ storeRule: undefined } as Partial<ResolvedRule<ExecutionContext>>);
        byName.set(name, resolveRule({ ...baseFields, ...override, name }, `@Throttle on ${where} [${i}]`, problems));
      });
    }
    const skip = this.reflector.getAllAndOverride<boolean | string[] | undefined>(SKIP_THROTTLE_METADATA, [handler, controller]);
    const rules: ResolvedRule<ExecutionContext>[] = [];
    if (skip !== true) {
      for (const rule of byName.values()) if (!(Array.isArray(skip) && skip.includes(rule.name))) rules.push(rule);
    }
    const resolved = targetRules(routeKey, rules);
    byHandler.set(handler, resolved);
    return resolved;
  }
}
