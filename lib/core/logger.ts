/**
 * Where Rampart writes what an operator should read: a store going down, a violation that could not
 * be recorded, a failed background write. The Nest module passes Nest's `Logger('RateLimit')`;
 * standalone use defaults to the console.
 */
export interface RampartLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, stack?: string): void;
}

/** The console, with Rampart's prefix. */
export const consoleLogger: RampartLogger = Object.freeze({
  log: (message: string) => console.log(`[RateLimit] ${message}`),
  warn: (message: string) => console.warn(`[RateLimit] ${message}`),
  error: (message: string, stack?: string) => console.error(`[RateLimit] ${message}${stack ? `\n${stack}` : ''}`),
});
