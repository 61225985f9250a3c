import { RateLimitConfigurationError, type RateLimitModuleOptions } from '../../lib/index.js';
import { resolveRateLimitConfig } from '../../lib/rate-limit.config.js';

/** The problems startup validation finds in `options` (none: an empty list). */
export function problemsOf(options: RateLimitModuleOptions): readonly string[] {
  try {
    resolveRateLimitConfig(options);
  } catch (error) {
    if (error instanceof RateLimitConfigurationError) return error.problems;
    throw error;
  }
  return [];
}
