/** Metadata key of `@Throttle`. */
export const THROTTLE_METADATA = 'nest-rampart:throttle';
/** Metadata key of `@SkipThrottle`. */
export const SKIP_THROTTLE_METADATA = 'nest-rampart:skip';
/** Metadata key of `@ConcurrencyLimit`. */
export const CONCURRENCY_METADATA = 'nest-rampart:concurrency';
/** Metadata key of routes on which nothing is checked or counted, not even bans (the admin API). */
export const EXEMPT_METADATA = 'nest-rampart:exempt';
/** Injection token of the module's `concurrency`: the concurrency limit of HTTP routes without one of their own. */
export const MODULE_CONCURRENCY = Symbol('nest-rampart:module-concurrency');
/** Injection token of the validated configuration. */
export const RATE_LIMIT_CONFIG = Symbol('nest-rampart:config');
/** Injection token of the `RateLimitStore` in use. */
export const RATE_LIMIT_STORE = Symbol('nest-rampart:store');
/** Injection token of the `RampartStorage` in use (bans, violations, allow/deny lists). */
export const RATE_LIMIT_STORAGE = Symbol('nest-rampart:storage');
/** Media type of every problem-details body Rampart sends (RFC 9457 registers it); JSON parsers read it as JSON. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
