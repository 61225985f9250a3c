/**
 * What Rampart reads of a GraphQL context, on both drivers: the HTTP request an operation came by
 * (for the client's address and headers) and the response its headers go on.
 *
 * | context of                     | request                         | response       |
 * | ------------------------------ | ------------------------------- | -------------- |
 * | Apollo over HTTP (Express)     | `req`                           | `req.res`      |
 * | Mercurius over HTTP (Fastify)  | `req` or `reply.request`        | `reply`        |
 * | graphql-ws (Apollo)            | `req.extra.request` (upgrade)   | none           |
 * | Mercurius subscription         | `request` (upgrade)             | none           |
 */

interface GraphqlWsContext {
  readonly extra?: { readonly request?: unknown; readonly socket?: unknown };
}

interface AnyContext {
  readonly req?: unknown;
  readonly request?: unknown;
  readonly reply?: { readonly request?: unknown; readonly header?: unknown };
  readonly res?: unknown;
  readonly extra?: { readonly request?: unknown };
}

/** The HTTP request of an operation (the upgrade request of a subscription); undefined when there is none. */
export function operationRequest(context: unknown): unknown {
  if (typeof context !== 'object' || context === null) return undefined;
  const c = context as AnyContext;
  if (c.extra?.request !== undefined) return c.extra.request;
  const req = c.req ?? c.request ?? c.reply?.request;
  // Apollo hands graphql-ws's context to resolvers as `req`.
  const ws = (req as GraphqlWsContext | undefined)?.extra;
  return ws?.request !== undefined ? ws.request : req;
}

/** Where an operation's response headers go: Fastify's reply, Express's response; undefined over WebSocket. */
export function operationResponse(context: unknown): unknown {
  if (typeof context !== 'object' || context === null) return undefined;
  const c = context as AnyContext;
  if (typeof c.reply?.header === 'function') return c.reply;
  const res = (c.req as { res?: unknown } | undefined)?.res ?? c.res;
  return typeof (res as { setHeader?: unknown } | undefined)?.setHeader === 'function' ? res : undefined;
}
