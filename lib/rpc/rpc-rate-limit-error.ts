import { wsRateLimitError, type WsRateLimitCode, type WsRateLimitError } from '../ws/ws-rate-limit-error.js';

/** Why a microservice call was refused: the codes WebSocket messages are refused with. */
export type RpcRateLimitCode = WsRateLimitCode;

/**
 * The error of the `RpcException` a refused `@MessagePattern` call gets on the TCP transport: Nest's
 * exception filter sends it as it is, and the client's `send()` observable errors with it.
 *
 * `code` is `RATE_LIMITED` (with `rule` and `retryAfterSeconds`), `BLOCKED` (with
 * `retryAfterSeconds` until the block ends), `BANNED` (permanently banned or deny-listed) or
 * `UNAVAILABLE` (the store is down and the rule's `onStoreError` is `deny`; `retryAfterSeconds: 1`).
 *
 * @example
 * client.send({ cmd: 'sum' }, [1, 2]).subscribe({ error: (e: RpcRateLimitError) => e.code === 'RATE_LIMITED' && retryIn(e.retryAfterSeconds) });
 */
export type RpcRateLimitError = WsRateLimitError;

/** The error of a refused call, from its verdict (undefined when admitted); `errorMessage` words a `RATE_LIMITED` one. */
export const rpcRateLimitError: typeof wsRateLimitError = wsRateLimitError;

/**
 * The trailers of a refused gRPC call (its status is `RESOURCE_EXHAUSTED` for `RATE_LIMITED` and
 * `BLOCKED`, `PERMISSION_DENIED` for `BANNED`, `UNAVAILABLE` for `UNAVAILABLE`; its details are the
 * error's `message`).
 */
export const GRPC_REFUSAL_TRAILERS = Object.freeze({
  /** Why the call was refused: `RATE_LIMITED`, `BLOCKED`, `BANNED` or `UNAVAILABLE`. */
  code: 'rampart-code',
  /** The refusing rule (`RATE_LIMITED` only). */
  rule: 'rampart-rule',
  /** Whole seconds until a call may be admitted, as HTTP's `Retry-After` (not for `BANNED`). */
  retryAfter: 'retry-after',
  /**
   * The same wait in milliseconds, the retry pushback of gRPC's retry design (gRFC A6): a client
   * whose service config retries the status waits this long; `-1` (a ban) tells it not to retry.
   */
  retryPushback: 'grpc-retry-pushback-ms',
} as const);
