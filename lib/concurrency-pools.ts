import type { Type } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { resolveConcurrencyPool, type ConcurrencyLimitMetadata, type ConcurrencyPool } from './engine/concurrency-pool.js';
import { concurrencyLimitOffTarget } from './errors/concurrency-messages.js';
import * as messages from './errors/messages.js';
import { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
import type { RateLimitConfig } from './rate-limit.config.js';
import { CONCURRENCY_METADATA, EXEMPT_METADATA, SKIP_THROTTLE_METADATA } from './rate-limit.constants.js';

type Handler = (...args: unknown[]) => unknown;

/** What the pools need to know of a handler from the routes' resolver. */
export interface PoolTargets {
  /** What the handler's limits count per (`Controller.handler`, a gRPC `Service.Method`). */
  routeKey(handler: Handler, controller: Type): string;
  /** Whether the handler is a microservice handler Rampart limits. */
  isMicroservice(handler: Handler): boolean;
}

/**
 * The concurrency limit of each HTTP route and microservice handler: its own `@ConcurrencyLimit`
 * over its controller's, over the module's `concurrency` (HTTP routes only, but those under
 * `@SkipThrottle()` and the admin API). Resolved once per handler, at startup.
 */
export class ConcurrencyPools {
  /** By controller, then handler (null: none). */
  private readonly pools = new WeakMap<Type, WeakMap<Handler, ConcurrencyPool | null>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly config: RateLimitConfig,
    private readonly targets: PoolTargets,
    private readonly moduleConcurrency?: ConcurrencyLimitMetadata,
  ) {}

  /** The handler's concurrency limit; undefined when it has none. Throws the problems of a broken one. */
  of(handler: Handler, controller: Type): ConcurrencyPool | undefined {
    const cached = this.pools.get(controller)?.get(handler);
    if (cached !== undefined) return cached ?? undefined;
    const problems: string[] = [];
    const pool = this.resolveInto(handler, controller, problems);
    if (problems.length > 0) throw new RateLimitConfigurationError(problems);
    return pool;
  }

  /** The handler's concurrency limit, its problems appended to `problems`. */
  resolveInto(handler: Handler, controller: Type, problems: string[]): ConcurrencyPool | undefined {
    let byHandler = this.pools.get(controller);
    if (!byHandler) this.pools.set(controller, (byHandler = new WeakMap()));
    const cached = byHandler.get(handler);
    if (cached !== undefined) return cached ?? undefined;
    const own = this.reflector.get<ConcurrencyLimitMetadata | undefined>(CONCURRENCY_METADATA, handler);
    const given = own ?? this.reflector.get<ConcurrencyLimitMetadata>(CONCURRENCY_METADATA, controller) ?? this.moduleConcurrencyOf(handler, controller);
    let pool: ConcurrencyPool | null = null;
    if (given !== undefined) {
      const routeKey = this.targets.routeKey(handler, controller);
      if (this.targets.isMicroservice(handler) || this.isHttpRoute(handler)) {
        const missing = messages.noLeaseStore();
        if (this.config.storage.leases === undefined && !problems.includes(missing)) problems.push(missing);
        const path = own ? `@ConcurrencyLimit on ${routeKey}` : given === this.moduleConcurrency ? 'concurrency' : `@ConcurrencyLimit on ${controller.name}`;
        pool = resolveConcurrencyPool(given, routeKey, path, problems);
      } else if (own) {
        // On a class it limits the class's routes and microservice handlers; on another handler it would do nothing.
        problems.push(concurrencyLimitOffTarget(routeKey));
      }
    }
    byHandler.set(handler, pool);
    return pool ?? undefined;
  }

  /** The module's `concurrency`, on an HTTP route that neither `@SkipThrottle()` nor the admin API's exemption leaves out. */
  private moduleConcurrencyOf(handler: Handler, controller: Type): ConcurrencyLimitMetadata | undefined {
    const exempt = [EXEMPT_METADATA, SKIP_THROTTLE_METADATA].some((key) => this.reflector.getAllAndOverride<unknown>(key, [handler, controller]) === true);
    return exempt || !this.isHttpRoute(handler) ? undefined : this.moduleConcurrency;
  }

  /** Whether `handler` serves an HTTP route: `@Get()` and the others set its request method (Nest's METHOD_METADATA; GET is 0). */
  private isHttpRoute(handler: Handler): boolean {
    return this.reflector.get<unknown>('method', handler) !== undefined;
  }
}
