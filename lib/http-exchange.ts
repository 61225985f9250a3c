/**
 * The few request and response operations the guard needs, over both Express and Fastify objects.
 */

import type { PeerSocket } from './core/ip/connection-peers.js';

export type Headers = Record<string, string | string[] | undefined>;

interface AnyRequest {
  headers?: Headers;
  socket?: PeerSocket;
  raw?: { socket?: PeerSocket };
}

interface AnyResponse {
  raw?: unknown;
  header?: (name: string, value: string | number) => unknown;
  setHeader?: (name: string, value: string | number) => unknown;
}

/** The Node response under an adapter's response object, as far as its end and status matter. */
export interface RawResponse {
  readonly statusCode?: number;
  readonly destroyed?: boolean;
  readonly closed?: boolean;
  readonly writableFinished?: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/** The Node `ServerResponse` of a request (Express's response is one, a Fastify reply holds it as `raw`); undefined when there is none. */
export function rawResponse(response: unknown): RawResponse | undefined {
  const raw = ((response as AnyResponse | null)?.raw ?? response) as Partial<RawResponse> | null | undefined;
  return typeof raw?.once === 'function' ? (raw as RawResponse) : undefined;
}

/** Whether a response is over already: sent, or its connection closed. */
export function isClosed(raw: RawResponse): boolean {
  return raw.destroyed === true || raw.closed === true || raw.writableFinished === true;
}

/** The connection a request came on (Express `req.socket`, Fastify `request.socket` or `request.raw.socket`). */
export function peerSocket(request: unknown): PeerSocket | undefined {
  const req = request as AnyRequest;
  return req.socket ?? req.raw?.socket;
}

export function requestHeaders(request: unknown): Headers {
  return (request as AnyRequest).headers ?? {};
}

/**
 * Sets a response header: straight on a Node response (Express's is one; its `res.header` would
 * only convert the value to a string and look for Content-Type first), else through `header` (a
 * Fastify reply).
 */
export function setHeader(response: unknown, name: string, value: string | number): void {
  const res = response as AnyResponse;
  if (typeof res.setHeader === 'function') res.setHeader(name, value);
  else if (typeof res.header === 'function') res.header(name, value);
}
