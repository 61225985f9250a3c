/**
 * Durations in milliseconds, for `ttl` and `blockDuration`: `ttl: minutes(1)`.
 * Each unit is built from the next smaller one, so fractional inputs give exactly the values
 * `@nestjs/throttler` gives.
 */

/** Milliseconds in `howMany` seconds. */
export const seconds = (howMany: number): number => howMany * 1000;
/** Milliseconds in `howMany` minutes. */
export const minutes = (howMany: number): number => 60 * howMany * seconds(1);
/** Milliseconds in `howMany` hours. */
export const hours = (howMany: number): number => 60 * howMany * minutes(1);
/** Milliseconds in `howMany` days. */
export const days = (howMany: number): number => 24 * howMany * hours(1);
/** Milliseconds in `howMany` weeks. */
export const weeks = (howMany: number): number => 7 * howMany * days(1);
