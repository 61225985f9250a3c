import type { ExecutionContext } from '@nestjs/common';
import type * as engine from './engine/rule.interface.js';

export type { StoreErrorPolicy, RequestLimits } from './engine/rule.interface.js';

/** {@inheritDoc engine.ClientKeyResolver} In a Nest app, hooks receive the `ExecutionContext`. */
export type ClientKeyResolver = engine.ClientKeyResolver<ExecutionContext>;
/** {@inheritDoc engine.RateLimitRule} In a Nest app, hooks receive the `ExecutionContext`. */
export type RateLimitRule = engine.RateLimitRule<ExecutionContext>;
/** {@inheritDoc engine.RequestLimitsCache} In a Nest app, `key` receives the `ExecutionContext`. */
export type RequestLimitsCache = engine.RequestLimitsCache<ExecutionContext>;
/** What `@Throttle` accepts: a full rule, or fields overriding the module rule of the same name. */
export type ThrottleRule = engine.ThrottleRule<ExecutionContext>;
