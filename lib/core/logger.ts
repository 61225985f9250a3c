/**
 * The structured fields of a log line (an event line: a violation, a block, a ban, an unban): flat,
 * with values a JSON log can carry as they are.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | null>>;

/**
 * Where Rampart writes what an operator should read: a store going down, a violation that could not
 * be recorded, a failed background write, and the event lines (see the `logging` option). The Nest
 * module passes Nest's `Logger('RateLimit')`; standalone use defaults to the console.
 *
 * Event lines come as a short sentence and, second, their fields: Nest's logger (12 and later) prints
 * such an object as structured params, after the sentence as text, or as `params` in a JSON line
 * with `ConsoleLogger({ json: true })`. A logger that ignores the second argument still gets a
 * readable sentence.
 */
export interface RampartLogger {
  log(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  /** `stackOrFields`: the stack of an error, or the fields of an event line logged at level `error`. */
  error(message: string, stackOrFields?: string | LogFields): void;
  /** Used for event lines at level `debug`; without it they go to `log`. */
  debug?(message: string, fields?: LogFields): void;
  /** Used for event lines at level `verbose`; without it they go to `log`. */
  verbose?(message: string, fields?: LogFields): void;
}

/** Fields as `key=value` text (values with spaces or quotes JSON-quoted), for loggers that print text only. */
export function fieldsAsText(fields: LogFields): string {
  return Object.entries(fields)
    .map(([name, value]) => `${name}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`)
    .join(' ');
}

/** `message`, followed by its fields as `key=value` text when there are any. */
const line = (message: string, fields?: LogFields) => `[RateLimit] ${message}${fields ? ` ${fieldsAsText(fields)}` : ''}`;

/** The console, with Rampart's prefix; event lines' fields as `key=value` text. */
export const consoleLogger: RampartLogger = Object.freeze({
  log: (message: string, fields?: LogFields) => console.log(line(message, fields)),
  warn: (message: string, fields?: LogFields) => console.warn(line(message, fields)),
  error: (message: string, stackOrFields?: string | LogFields) =>
    typeof stackOrFields === 'object'
      ? console.error(line(message, stackOrFields))
      : console.error(`${line(message)}${stackOrFields ? `\n${stackOrFields}` : ''}`),
});
