import { configurationHeader } from './messages.js';

/** Thrown at startup when the options are wrong; lists every problem found, not just the first. */
export class RateLimitConfigurationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super([configurationHeader(problems.length), ...problems.map((p) => `  - ${p}`)].join('\n'));
    this.name = 'RateLimitConfigurationError';
  }
}
