/** A raw Node response, as far as its status is read. */
export interface StatusSource {
  readonly statusCode: number;
  once(event: 'finish', listener: () => void): unknown;
}

/** The raw response of a request's context; undefined when it has none (another protocol). */
export type ResponseOf<C> = (context: C) => StatusSource | undefined;

/** Marks a response already watched: one listener per response, whatever calls for it. */
const WATCHED = Symbol('rampart.ddos.watched');

/** Calls `answered` with the response's status once it is sent (never for a response that is not sent). */
export function watchResponse<C>(responseOf: ResponseOf<C>, context: C, answered: (status: number) => void): void {
  const response = responseOf(context) as (StatusSource & { [WATCHED]?: true }) | undefined;
  if (response === undefined || response[WATCHED] === true || typeof response.once !== 'function') return;
  response[WATCHED] = true;
  response.once('finish', () => answered(response.statusCode));
}

/**
 * The raw response of a Nest HTTP request: Express's response is one, a Fastify reply holds it as
 * `raw`. Contexts of other protocols have none.
 */
export function nestHttpResponse(context: { getType(): string; getArgByIndex<T>(index: number): T }): StatusSource | undefined {
  // Other adapters' contexts (a GraphQL operation's hook context...) may not be execution contexts.
  if (typeof context?.getType !== 'function' || context.getType() !== 'http') return undefined;
  const response = context.getArgByIndex<(StatusSource & { raw?: StatusSource }) | undefined>(1);
  return response?.raw ?? response;
}
