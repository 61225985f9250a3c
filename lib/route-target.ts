import type { ExecutionContext, Type } from '@nestjs/common';
import type { TargetRules } from './engine/target-rules.js';
import { uriTooLongDetail } from './errors/policy-messages.js';
import { UriTooLongException } from './errors/uri-too-long.exception.js';
import type { RateLimitConfig } from './rate-limit.config.js';
import type { RouteRulesResolver } from './route-rules.resolver.js';

/**
 * The rules an HTTP request counts under: its route's, or those of the configuration file's route
 * entry its path matches; undefined where nothing is checked (an exempt route, an excluded path).
 * A path too long to match is refused (`UriTooLongException`), never let past the entries.
 */
export function httpTarget(
  routeRules: RouteRulesResolver,
  routes: RateLimitConfig['routes'],
  context: ExecutionContext,
): TargetRules<ExecutionContext> | undefined {
  const rules = routeRules.resolve(context.getHandler() as (...args: unknown[]) => unknown, context.getClass() as Type);
  if (rules.exempt) return undefined;
  if (routes.empty) return rules;
  const request = context.getArgByIndex<{ method?: string; originalUrl?: string; url?: string }>(0);
  const matched = routes.match(request.method ?? 'GET', request.originalUrl ?? request.url ?? '/');
  if (matched === 'excluded') return undefined;
  if (matched === 'too-long') throw new UriTooLongException(uriTooLongDetail());
  return matched !== undefined && !rules.skipped ? matched : rules;
}
