import { describe } from './describe.js';

// The `logging` option's problems (re-exported by messages.ts).

export const badLogging = (value: unknown) =>
  `logging must be an object of event-log options (violation, block, ban, unban, intervalMs, maxKeys) or false, got ${describe(value)}.`;

export const badLogLevel = (path: string, value: unknown, levels: readonly string[]) =>
  `${path} must be one of ${levels.map((l) => `'${l}'`).join(', ')}, or false to leave such events out of the log, got ${describe(value)}.`;
