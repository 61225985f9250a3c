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
  header?: (name: string, value: string | number) => unknown;
  setHeader?: (name: string, value: string | number) => unknown;
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
