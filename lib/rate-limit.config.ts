import type { ExecutionContext } from '@nestjs/common';
import { checkAdminApiKeys } from './admin/admin-settings.js';
import { checkRampartOptions, type RampartConfig } from './engine/rampart-config.js';
import { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
import type { RateLimitModuleOptions } from './rate-limit-options.interface.js';

export { ruleEscalation } from './engine/rule-resolution.js';

/** The engine's configuration in a Nest app, with the admin API's key digests. */
export interface RateLimitConfig extends RampartConfig<ExecutionContext> {
  /** SHA-256 digests of the `adminApiKey` keys; absent when none is set. */
  readonly adminApiKeyDigests?: readonly Buffer[];
}

/** Validates the module options once, at startup, into one error that lists every problem. */
export function resolveRateLimitConfig(options: RateLimitModuleOptions = {}): RateLimitConfig {
  const problems: string[] = [];
  const config = checkRampartOptions(options, problems);
  const adminApiKeyDigests = checkAdminApiKeys(options.adminApiKey, problems);
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  return adminApiKeyDigests.length > 0 ? Object.freeze({ ...config, adminApiKeyDigests: Object.freeze(adminApiKeyDigests) }) : config;
}
