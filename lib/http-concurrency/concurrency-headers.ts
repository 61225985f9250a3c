import type { ConcurrencyPool } from '../engine/concurrency-pool.js';
import { setHeader } from '../http-exchange.js';

interface AnyResponse {
  getHeader?: (name: string) => unknown;
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
  const present = (response as AnyResponse).getHeader?.(name);
  setHeader(response, name, typeof present === 'string' && present.length > 0 ? `${present}, ${item}` : item);
}
