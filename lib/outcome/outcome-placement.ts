import { Inject, Injectable, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { Rampart } from '../engine/rampart.js';
import { countIfAfterStartup, guardAfterOtherGuard } from '../errors/outcome-messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import type { RateLimitConfig } from '../rate-limit.config.js';
import { RATE_LIMIT_CONFIG, THROTTLE_METADATA } from '../rate-limit.constants.js';
import { RateLimitGuard } from '../rate-limit.guard.js';
import { RouteRulesResolver } from '../route-rules.resolver.js';
import { OutcomeFirstGuard, type OutcomeTargets } from './outcome-first.guard.js';
import { OutcomeInterceptor } from './outcome.interceptor.js';
import { checkRefunds } from './request-outcome.js';

type Handler = (...args: unknown[]) => unknown;
/** What a guard list may hold: a guard class, or an instance. */
type GuardEntry = Type | object;

const PATTERN_METADATA = 'microservices:pattern';
const RESOLVER_METADATA = 'graphql:resolver_type';

/** Whether a guard list entry is Rampart's guard (the class, a subclass, or an instance of either). */
function isRampartGuard(entry: GuardEntry): boolean {
  return entry instanceof RateLimitGuard || (typeof entry === 'function' && (entry === RateLimitGuard || entry.prototype instanceof RateLimitGuard));
}

/** `entries` with Rampart's guards first, others in their order; undefined when they already are. */
function rampartFirst(entries: readonly GuardEntry[]): GuardEntry[] | undefined {
  const first = entries.findIndex(isRampartGuard);
  if (first <= 0 || entries.slice(0, first).every(isRampartGuard)) return undefined;
  return [...entries.filter(isRampartGuard), ...entries.filter((entry) => !isRampartGuard(entry))];
}

const nameOf = (entry: GuardEntry) => (typeof entry === 'function' ? entry.name : entry.constructor.name);

/**
 * Makes outcome-aware rules (`countIf`) hold whatever order the app registered its guards in, and
 * adds what settles them where a guard cannot see the end of a call: the interceptor as soon as
 * Rampart's module is built, the guards once the app's global guards are known and before its
 * routes are built (`place`). It changes nothing in an app without such rules.
 *
 * - An auth guard that runs before Rampart's refuses bad credentials before they are counted: a
 *   failure limit would never be reached (nestjs/throttler #522). So where a guard of the app runs
 *   before Rampart's (an `APP_GUARD` registered before Rampart's module, `app.useGlobalGuards`, a
 *   `@UseGuards(AuthGuard, RateLimitGuard)` of a controller), `OutcomeFirstGuard` is put first:
 *   it runs Rampart's guard ahead of the others on routes with such rules only, and every other
 *   route keeps the app's order. Within a method's own `@UseGuards`, Rampart's guard is moved first.
 *   Where it cannot get ahead (a guard at an earlier level: global before a route's, a
 *   controller's before a method's), startup fails, naming the route.
 * - GraphQL resolvers and microservice handlers with such rules get `OutcomeInterceptor`; HTTP
 *   routes need none (their response tells the outcome), so no other request runs anything more.
 */
@Injectable()
export class OutcomePlacement {
  private ordered = false;
  /** The app's handlers whose rules count outcomes (every handler when a module rule or a route entry does). */
  private readonly outcomeHandlers: readonly { handler: Handler; controller: Type; method: string }[];
  private readonly targets: OutcomeTargets;

  constructor(
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
    private readonly appConfig: ApplicationConfig,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
    private readonly routeRules: RouteRulesResolver,
    private readonly rampart: Rampart<ExecutionContext>,
  ) {
    const everywhere = config.rules.some((rule) => rule.countIf !== undefined) || config.routes.targetRules().some((r) => r.rule.countIf !== undefined);
    this.outcomeHandlers = this.handlers().filter(({ handler, controller }) => everywhere || hasOutcomeRules(handler) || hasOutcomeRules(controller));
    const byController = new WeakMap<Type, WeakSet<Handler>>();
    for (const { handler, controller } of this.outcomeHandlers) byController.set(controller, (byController.get(controller) ?? new WeakSet()).add(handler));
    this.targets = { all: everywhere, byController };
    // Now, as Rampart's module is built: a hybrid app builds its microservice handlers as soon as it
    // connects a microservice, before any module's configure() or onModuleInit().
    for (const { handler, controller } of this.outcomeHandlers) {
      if (!Reflect.hasMetadata(PATTERN_METADATA, handler) && !Reflect.hasOwnMetadata(RESOLVER_METADATA, controller)) continue;
      const interceptors = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];
      if (!interceptors.some((i) => i instanceof OutcomeInterceptor))
        Reflect.defineMetadata(INTERCEPTORS_METADATA, [OutcomeInterceptor.instance, ...interceptors], handler);
    }
  }

  /**
   * The problems of a reloaded configuration with rules that count outcomes where no module rule or
   * route entry did at startup: the guards and interceptors that settle them, and the store's
   * refunds, are put in place and checked at startup only (for every handler once one such rule is
   * there). Such a reload is refused; a restart applies it.
   */
  reloadProblems(next: Pick<RateLimitConfig, 'rules' | 'routes'>): string[] {
    if (this.targets.all) return [];
    const named = [...next.rules, ...next.routes.targetRules().map((r) => r.rule)].filter((rule) => rule.countIf !== undefined).map((rule) => rule.name);
    return [...new Set(named)].map(countIfAfterStartup);
  }

  /**
   * Puts the guards in place (once; later calls do nothing), once the app's global guards are known
   * and before its routes are built: the module's configure() (onModuleInit for an app without HTTP).
   */
  place(): void {
    if (this.ordered || this.outcomeHandlers.length === 0) return;
    this.ordered = true;
    const problems: string[] = [];
    // The rules of decorators are resolved later, route by route: their store is checked here.
    checkRefunds(this.config.store, [{ countIf: 'failed' }], problems);
    const globals = this.appConfig.getGlobalGuards() as GuardEntry[];
    if (globals.some(isRampartGuard)) {
      const first = this.outcomeFirst(globals);
      if (first) globals.unshift(first);
    } else {
      for (const { handler, controller, method } of this.outcomeHandlers)
        this.orderRouteGuards(handler, controller, `${controller.name}.${method}`, globals, problems);
    }
    if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  }

  /** Gets Rampart's guard ahead of the other guards of the controller's or the method's `@UseGuards`, or reports a guard it cannot get ahead of. */
  private orderRouteGuards(handler: Handler, controller: Type, route: string, globals: readonly GuardEntry[], problems: string[]): void {
    const ofClass = (Reflect.getMetadata(GUARDS_METADATA, controller) as GuardEntry[] | undefined) ?? [];
    const ofMethod = (Reflect.getMetadata(GUARDS_METADATA, handler) as GuardEntry[] | undefined) ?? [];
    const atClass = ofClass.some(isRampartGuard);
    if (!atClass && !ofMethod.some(isRampartGuard)) return; // not limited by Rampart here
    const ahead = atClass ? globals : [...globals, ...ofClass];
    if (ahead.length > 0) problems.push(guardAfterOtherGuard(route, ahead.map(nameOf)));
    if (!atClass) {
      // The method's own list: only this route, whose rules count outcomes, sees the new order.
      const reordered = rampartFirst(ofMethod);
      if (reordered) Reflect.defineMetadata(GUARDS_METADATA, reordered, handler);
      return;
    }
    // The controller's list serves its other methods too: they keep its order.
    const own = ofClass.filter((entry) => !(entry instanceof OutcomeFirstGuard));
    const first = this.outcomeFirst(own);
    if (first) Reflect.defineMetadata(GUARDS_METADATA, [first, ...own], controller);
  }

  /**
   * An `OutcomeFirstGuard` over the first of Rampart's guards in `entries` (this app's instance of
   * it), when another guard runs before it; undefined when none does.
   */
  private outcomeFirst(entries: readonly GuardEntry[]): OutcomeFirstGuard | undefined {
    const at = entries.findIndex(isRampartGuard);
    if (at <= 0 || entries.slice(0, at).every(isRampartGuard)) return undefined;
    const entry = entries[at];
    const guard = typeof entry === 'function' ? this.moduleRef.get<CanActivate>(entry as Type<CanActivate>, { strict: false }) : (entry as CanActivate);
    return new OutcomeFirstGuard(guard, this.targets, this.routeRules, this.rampart);
  }

  /** Every method of the app's controllers and resolvers (microservice handlers are controllers' methods). */
  private handlers(): { handler: Handler; controller: Type; method: string }[] {
    const classes = [
      ...this.discovery.getControllers(),
      ...this.discovery.getProviders().filter(({ metatype }) => typeof metatype === 'function' && Reflect.hasOwnMetadata(RESOLVER_METADATA, metatype)),
    ];
    const found: { handler: Handler; controller: Type; method: string }[] = [];
    for (const { metatype } of classes) {
      if (typeof metatype !== 'function') continue;
      const prototype = metatype.prototype as Record<string, Handler>;
      for (const method of this.scanner.getAllMethodNames(prototype)) found.push({ handler: prototype[method], controller: metatype as Type, method });
    }
    return found;
  }
}

/** Whether a handler's or a controller's `@Throttle` rules count outcomes. */
function hasOutcomeRules(target: object): boolean {
  const rules = Reflect.getMetadata(THROTTLE_METADATA, target) as readonly { countIf?: unknown }[] | undefined;
  return rules?.some((rule) => rule?.countIf !== undefined) === true;
}
