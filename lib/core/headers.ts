/**
 * Rate-limit response headers. `RateLimit-Policy` and `RateLimit` follow the IETF httpapi draft
 * (draft-ietf-httpapi-ratelimit-headers-10): Structured Field lists with one item per policy, the
 * item a quoted policy name with parameters `q` (quota), `w` (window, seconds), `r` (remaining)
 * and `t` (seconds until the quota resets).
 */

/** One rule's figures, as the headers need them. */
export interface HeaderItem {
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly remaining: number;
  readonly resetAtMs: number;
}

/** Seconds from `nowMs` until `atMs`, rounded up, never negative. */
export function secondsUntil(atMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((atMs - nowMs) / 1000));
}

/** Quoted rule names: a handful per app, quoted once each. */
const quotedNames = new Map<string, string>();
const MAX_QUOTED_NAMES = 1_000;

/** A Structured Field sf-string: quoted, with `"` and `\` escaped. */
function sfString(value: string): string {
  let quoted = quotedNames.get(value);
  if (quoted === undefined) {
    quoted = `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    if (quotedNames.size >= MAX_QUOTED_NAMES) quotedNames.clear();
    quotedNames.set(value, quoted);
  }
  return quoted;
}

/** `RateLimit-Policy: "default";q=100;w=60, "login";q=5;w=60` */
export function formatRateLimitPolicy(items: readonly HeaderItem[]): string {
  return items.map((i) => `${sfString(i.name)};q=${i.limit};w=${Math.ceil(i.windowMs / 1000)}`).join(', ');
}

/** `RateLimit: "default";r=99;t=60, "login";r=4;t=60` */
export function formatRateLimit(items: readonly HeaderItem[], nowMs: number): string {
  let header = '';
  for (let n = 0; n < items.length; n++) {
    const i = items[n];
    header += `${n === 0 ? '' : ', '}${sfString(i.name)};r=${i.remaining};t=${secondsUntil(i.resetAtMs, nowMs)}`;
  }
  return header;
}

/** The item legacy `X-RateLimit-*` headers describe: the one with the fewest requests left. */
export function mostRestrictive<T extends HeaderItem>(items: readonly T[]): T | undefined {
  let chosen: T | undefined;
  for (const item of items) {
    if (chosen === undefined || item.remaining < chosen.remaining || (item.remaining === chosen.remaining && item.resetAtMs > chosen.resetAtMs)) {
      chosen = item;
    }
  }
  return chosen;
}
