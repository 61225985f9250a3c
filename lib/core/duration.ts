/** Milliseconds in `n` seconds. @example { windowMs: seconds(30) } */
export const seconds = (n: number): number => n * 1000;
/** Milliseconds in `n` minutes. */
export const minutes = (n: number): number => n * 60_000;
/** Milliseconds in `n` hours. */
export const hours = (n: number): number => n * 3_600_000;
/** Milliseconds in `n` days. */
export const days = (n: number): number => n * 86_400_000;
/** Milliseconds in `n` weeks. */
export const weeks = (n: number): number => n * 604_800_000;

/** Milliseconds per unit of a written duration. */
export const DURATION_UNITS: Readonly<Record<'ms' | 's' | 'm' | 'h' | 'd' | 'w', number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const WRITTEN_DURATION = /^(\d{1,15})(ms|s|m|h|d|w)?$/;

/**
 * A written duration (`250ms`, `30s`, `15m`, `1h`, `7d`, `2w`, or a whole number of milliseconds)
 * as milliseconds; undefined for anything else. What the configuration file and the CLI read.
 */
export function parseDuration(text: string): number | undefined {
  const match = WRITTEN_DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * DURATION_UNITS[(match[2] ?? 'ms') as keyof typeof DURATION_UNITS];
  return Number.isSafeInteger(ms) ? ms : undefined;
}
