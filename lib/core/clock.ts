/**
 * The source of time for every rate-limit decision. Inject your own (a fake clock in tests,
 * a synchronised clock in a fleet) through the module's `clock` option.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The process clock: `Date.now()`. */
export const systemClock: Clock = { now: () => Date.now() };
