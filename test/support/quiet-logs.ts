import { Logger } from '@nestjs/common';

/** Silences Nest's `Logger` (log, warn, error, in that order) and returns the spies, for assertions and `mockRestore`. */
export function quietNestLogs(): jest.SpyInstance[] {
  return (['log', 'warn', 'error'] as const).map((level) => jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined));
}
