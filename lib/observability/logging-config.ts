import { checkPositiveIntegers, switchable } from '../core/option-objects.js';
import * as messages from '../errors/messages.js';

/** Levels event lines can be logged at (the logger's methods; `debug` and `verbose` fall back to `log`). */
export const LOG_LEVELS = Object.freeze(['log', 'warn', 'error', 'debug', 'verbose'] as const);
export type RampartLogLevel = (typeof LOG_LEVELS)[number];

/**
 * The event log: one line for each violation, block, ban and unban, with structured fields (see
 * README "Logs"). Each kind is logged at its level, or not at all with `false`. Violations are
 * rate-limited per client key: the first of a key is logged, the others within `intervalMs` are
 * counted, and one summary line says how many were left out.
 */
export interface LoggingOptions {
  /** Level of a violation line (and of the summary lines of violations left out). @default 'warn' */
  violation?: RampartLogLevel | false;
  /** Level of a temporary block line. @default 'warn' */
  block?: RampartLogLevel | false;
  /** Level of a ban line. @default 'warn' */
  ban?: RampartLogLevel | false;
  /** Level of an unban line (an operator lifted a block or a ban). @default 'log' */
  unban?: RampartLogLevel | false;
  /** How long, in milliseconds, a client key's violation lines are left out after one is logged. @default 60_000 */
  intervalMs?: number;
  /**
   * Most client keys whose violations are followed at once; the violations of further keys within
   * the interval are only counted, and told in one line. Bounds the memory and the lines of a flood
   * from many clients.
   * @default 10_000
   */
  maxKeys?: number;
}

export type LoggingConfig = Required<LoggingOptions>;

export const DEFAULT_LOGGING: LoggingConfig = Object.freeze({
  violation: 'warn',
  block: 'warn',
  ban: 'warn',
  unban: 'log',
  intervalMs: 60_000,
  maxKeys: 10_000,
});

/** The `logging` option checked, its defaults filled in (a field set to undefined takes its default); false when the event log is off. */
export function checkLogging(given: unknown, problems: string[]): LoggingConfig | false {
  const logging = switchable(given, 'logging', DEFAULT_LOGGING, messages.badLogging, problems);
  if (logging === false || logging === DEFAULT_LOGGING) return logging;
  for (const kind of ['violation', 'block', 'ban', 'unban'] as const) {
    const level = logging[kind];
    if (level !== false && !LOG_LEVELS.includes(level)) problems.push(messages.badLogLevel(`logging.${kind}`, level, LOG_LEVELS));
  }
  checkPositiveIntegers(logging, 'logging', ['intervalMs', 'maxKeys'], problems);
  return Object.freeze(logging);
}
