import type { ConcurrencyPool } from '../engine/concurrency-pool.js';

/** The Node response under an adapter's response object, as far as its end matters. */
export interface RawResponse {
  readonly destroyed?: boolean;
  readonly closed?: boolean;
  readonly writableFinished?: boolean;
  once(event: 'close', listener: () => void): unknown;
}

interface AnyResponse {
  raw?: unknown;
  getHeader?: (name: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
  header?: (name: string, value: string) => unknown;
}

/** The Node `ServerResponse` of a request: Express's response is one, a Fastify reply holds it as `raw`. */
export function rawResponse(response: unknown): RawResponse | undefined {
  const res = response as AnyResponse;
  const raw = (res.raw ?? res) as Partial<RawResponse>;
  return typeof raw.once === 'function' ? (raw as RawResponse) : undefined;
}

/**
 * Adds the pool's items to the IETF rate-limit headers (draft-ietf-httpapi-ratelimit-headers):
 * `RateLimit-Policy: "<name>";q=<limit>;qu="concurrent-requests"` (a quota of concurrent requests,
 * without a window) and `RateLimit: "<name>";r=<slots left>`, after the items the rate limits set.
 */
export function appendConcurrencyHeaders(response: unknown, pool: ConcurrencyPool, held: number): void {
  const name = JSON.stringify(pool.name);
  append(response, 'RateLimit-Policy', `${name};q=${pool.limit};qu="concurrent-requests"`);
  append(response, 'RateLimit', `${name};r=${Math.max(0, pool.limit - held)}`);
}

/** Appends an item to a Structured Field list header (one field line, items joined by commas). */
function append(response: unknown, name: string, item: string): void {
  const res = response as AnyResponse;
  const present = res.getHeader?.(name);
  const value = typeof present === 'string' && present.length > 0 ? `${present}, ${item}` : item;
  if (typeof res.setHeader === 'function') res.setHeader(name, value);
  else res.header?.(name, value);
}
