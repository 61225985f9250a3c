const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d{1,15})(ms|s|m|h|d|w)?$/;

/** `30s`, `15m`, `1h`, `7d`, `2w`, `250ms` or a number of milliseconds, as milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
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
