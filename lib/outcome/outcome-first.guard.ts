import type { CanActivate, ExecutionContext, Type } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { Rampart } from '../engine/rampart.js';
import type { RateLimitConfig } from '../rate-limit.config.js';
import type { RouteRulesResolver } from '../route-rules.resolver.js';
import { httpTarget } from '../route-target.js';

type Handler = (...args: unknown[]) => unknown;

/** The handlers whose rules count outcomes (each of its controller): every handler when `all`. */
export interface OutcomeTargets {
  readonly all: boolean;
  readonly byController: WeakMap<Type, WeakSet<Handler>>;
}

/** The calls (Nest's execution context of one request, shared by its guards) Rampart's guard has decided ahead of the others. */
const taken = new WeakSet<ExecutionContext>();

/**
 * Runs Rampart's guard ahead of the app's guards on routes whose rules count outcomes (`countIf`),
 * so that an auth guard cannot refuse a wrong password before it is counted (nestjs/throttler
 * #522), while every other route keeps the order the app gave (a `keyResolver` there may read the
 * `request.user` an auth guard set). Put first among the global guards, or first in a
 * controller's `@UseGuards`, by `OutcomePlacement`, only where a guard of the app runs before
 * Rampart's. Rampart's guard, called again at its own place, lets the request through.
 */
export class OutcomeFirstGuard implements CanActivate {
  /** Whether Rampart's guard has already decided this call, ahead of the app's guards. */
  static took(context: ExecutionContext): boolean {
    return taken.has(context);
  }

  constructor(
    /** Rampart's guard, as the route has it. */
    readonly guard: CanActivate,
    private readonly targets: OutcomeTargets,
    private readonly routeRules: RouteRulesResolver,
    private readonly rampart: Rampart<ExecutionContext>,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    const { all, byController } = this.targets;
    const handler = context.getHandler() as Handler;
    const controller = context.getClass<unknown>() as Type;
    if (!all && byController.get(controller)?.has(handler) !== true) return true;
    // Exactly the calls whose rules count outcomes, as Rampart's guard resolves them: a route entry
    // of a configuration file may match other paths, `@SkipThrottle` may drop a rule, and a
    // gateway's messages are never counted by such rules.
    const { enabled, routes } = this.rampart.config as RateLimitConfig;
    const rules = !enabled
      ? undefined
      : context.getType() === 'http'
        ? httpTarget(this.routeRules, routes, context)
        : this.routeRules.resolve(handler, controller);
    if (rules?.outcomes !== true) return true;
    const answer = this.guard.canActivate(context);
    taken.add(context);
    return answer;
  }
}
