import { DURATION_UNITS as UNITS, parseDuration as parseWritten } from '../core/duration.js';

/** `30s`, `15m`, `1h`, `7d`, `2w`, `250ms` or a number of milliseconds, as milliseconds; undefined for anything else, and for none. */
export function parseDuration(text: string): number | undefined {
  const ms = parseWritten(text);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/** Milliseconds as the largest two units that say them (`1h`, `1h30m`, `45s`, `250ms`). */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    if (parts.length === 2 || (parts.length > 0 && rest === 0)) break;
    const size = UNITS[unit]!;
    if (rest >= size || unit === 'ms') {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
