/**
 * Metadata keys and injection tokens of the `@nestjs/throttler` compatible entry point. The
 * strings are the ones `@nestjs/throttler` v6 uses, so metadata written by either package's
 * decorators is read by either package's guard while an application migrates.
 */

/** Metadata key prefix of a route's or controller's `limit`, followed by the throttler name. */
export const THROTTLER_LIMIT = 'THROTTLER:LIMIT';
/** Metadata key prefix of a route's or controller's `ttl`, followed by the throttler name. */
export const THROTTLER_TTL = 'THROTTLER:TTL';
/** Metadata key prefix of a route's or controller's `getTracker`, followed by the throttler name. */
export const THROTTLER_TRACKER = 'THROTTLER:TRACKER';
/** Metadata key prefix of a route's or controller's `blockDuration`, followed by the throttler name. */
export const THROTTLER_BLOCK_DURATION = 'THROTTLER:BLOCK_DURATION';
/** Metadata key prefix of a route's or controller's `generateKey`, followed by the throttler name. */
export const THROTTLER_KEY_GENERATOR = 'THROTTLER:KEY_GENERATOR';
/** Metadata key prefix of `@SkipThrottle`, followed by the throttler name. */
export const THROTTLER_SKIP = 'THROTTLER:SKIP';
/** Injection token of the module options. */
export const THROTTLER_OPTIONS = 'THROTTLER:MODULE_OPTIONS';

/** The name of a throttler declared without one. */
export const DEFAULT_THROTTLER_NAME = 'default';
