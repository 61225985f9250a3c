import { bannedRefusal, blockedRefusal, verdictRefusal, type RefusalCode, type VerdictRefusal } from '../engine/verdict-refusal.js';

/**
 * Why a WebSocket message or handshake was refused: the engine's codes, `TOO_MANY_CONNECTIONS`, and
 * `UNAUTHENTICATED` (a resolver threw an `IdentityError`: an invalid token).
 */
export type WsRateLimitCode = RefusalCode | 'TOO_MANY_CONNECTIONS' | 'UNAUTHENTICATED';

/**
 * What a refused WebSocket message gets, as the error of a `WsException`: Nest's exception filter
 * sends it as the `exception` event on socket.io, and as `{ "event": "exception", "data": <this> }`
 * on the `ws` adapter. A refused handshake gets it too.
 */
export interface WsRateLimitError extends Omit<VerdictRefusal, 'code'> {
  readonly code: WsRateLimitCode;
}

/** The error of a refused message, from its verdict (the engine's wording of every protocol's refusals). */
export const wsRateLimitError: typeof verdictRefusal = verdictRefusal;
export const blockedError = blockedRefusal;
export const bannedError = bannedRefusal;
