import { SetMetadata } from '@nestjs/common';
import { SKIP_THROTTLE_METADATA } from '../rate-limit.constants.js';

/**
 * Exempts a controller or handler from rate limiting: every rule (`@SkipThrottle()`), or only the
 * named ones (`@SkipThrottle('burst')`, `@SkipThrottle(['burst', 'daily'])`).
 * `@SkipThrottle(false)` on a handler re-enables the rules its controller skipped.
 *
 * @example
 * @SkipThrottle()
 * @Get('health') health() {}
 */
export const SkipThrottle = (rules: boolean | string | readonly string[] = true) =>
  SetMetadata(SKIP_THROTTLE_METADATA, typeof rules === 'string' ? [rules] : Array.isArray(rules) ? [...rules] : rules);
