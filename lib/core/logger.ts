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

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: what may start a new line or rewrite a terminal. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** A value printed as it is: no spaces, quotes, `=` or control characters. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BARE = /^[^\s"=\u0000-\u001f\u007f-\u009f]+$/;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with each control character written as an escape (`\n`, `\u001b`…), so that a value
 * from a request (a client key, a route) can never start a forged line or rewrite a terminal.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Fields as `key=value` text (values with spaces, quotes or control characters JSON-quoted, controls escaped), for loggers that print text only. */
export function fieldsAsText(fields: LogFields): string {
  return Object.entries(fields)
    .map(([name, value]) => `${name}=${typeof value === 'string' && BARE.test(value) ? value : escapeControls(JSON.stringify(value))}`)
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
