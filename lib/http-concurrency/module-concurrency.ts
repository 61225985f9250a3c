import type { Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ConcurrencyLimitInterceptor } from '../concurrency-limit.interceptor.js';
import { resolveConcurrencyPool, type ConcurrencyLimitMetadata } from '../engine/concurrency-pool.js';
import { badModuleConcurrency } from '../errors/concurrency-messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { MODULE_CONCURRENCY } from '../rate-limit.constants.js';

/**
 * The providers of the module's `concurrency` (none without it): the limit itself, and the
 * concurrency interceptor registered for every route (APP_INTERCEPTOR), which only then runs on
 * routes without `@ConcurrencyLimit`. Checked when the module is defined: a bad limit fails at once.
 */
export function moduleConcurrencyProviders(given: unknown): Provider[] {
  if (given === undefined) return [];
  const problems: string[] = [];
  if (typeof given !== 'object' || given === null || Array.isArray(given)) problems.push(badModuleConcurrency(given));
  else resolveConcurrencyPool(given as ConcurrencyLimitMetadata, 'module', 'concurrency', problems);
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  return [
    ConcurrencyLimitInterceptor,
    { provide: MODULE_CONCURRENCY, useValue: Object.freeze({ ...(given as ConcurrencyLimitMetadata) }) },
    { provide: APP_INTERCEPTOR, useExisting: ConcurrencyLimitInterceptor },
  ];
}
