import { SetMetadata } from '@nestjs/common';
import { THROTTLE_METADATA } from '../rate-limit.constants.js';
import type { ThrottleRule } from '../rate-limit-rule.interface.js';

/**
 * Sets the rate-limit rules of a controller or a handler. A rule named like a module rule overrides
 * that rule's fields; a new name adds a rule (then `limit` and `windowMs` are required). Handler
 * rules override controller rules, which override the module's. Durations in milliseconds.
 *
 * @example
 * @Throttle({ name: 'login', limit: 5, windowMs: 60_000 })
 * @Post('login') login() {}
 *
 * @example // tighter default rule for one controller
 * @Throttle({ limit: 20 })
 * @Controller('search') class SearchController {}
 */
export const Throttle = (rules: ThrottleRule | readonly ThrottleRule[]) =>
  SetMetadata(THROTTLE_METADATA, Object.freeze(Array.isArray(rules) ? [...rules] : [rules]));
