import { configurationHeader } from './messages.js';

/** Thrown at startup when the options are wrong; lists every problem found, not just the first. */
export class RateLimitConfigurationError extends Error {
  /** @param subject what is misconfigured, for the first line */
  constructor(
    readonly problems: readonly string[],
    subject?: string,
  ) {
    super([configurationHeader(problems.length, subject), ...problems.map((p) => `  - ${p}`)].join('\n'));
    this.name = 'RateLimitConfigurationError';
  }
}
