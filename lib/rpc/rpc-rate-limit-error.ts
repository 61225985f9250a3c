import type { Verdict } from '../engine/verdict.js';
import { concurrencyLimitedDetail } from '../errors/messages.js';
import type { RateLimitViolation } from '../rate-limit-options.interface.js';
import { verdictRefusal } from '../engine/verdict-refusal.js';

/**
 * Why a microservice call was refused: the codes WebSocket messages are refused with, and
 * `CONCURRENCY_LIMITED` (every slot of the client's `@ConcurrencyLimit` is taken).
 */
export type RpcRateLimitCode = 'RATE_LIMITED' | 'BLOCKED' | 'BANNED' | 'UNAVAILABLE' | 'CONCURRENCY_LIMITED' | 'UNAUTHENTICATED';

/**
 * The error of the `RpcException` a refused `@MessagePattern` call gets on the TCP transport: Nest's
 * exception filter sends it as it is, and the client's `send()` observable errors with it.
 *
 * `code` is `RATE_LIMITED` (with `rule` and `retryAfterSeconds`), `BLOCKED` (with
 * `retryAfterSeconds` until the block ends), `BANNED` (permanently banned or deny-listed),
 * `UNAVAILABLE` (the store is down and the rule's `onStoreError` is `deny`; `retryAfterSeconds: 1`),
 * `CONCURRENCY_LIMITED` (with the limit's name as `rule`, its `limit`, and `retryAfterSeconds: 1`) or
 * `UNAUTHENTICATED` (a key or group resolver threw an `IdentityError`; nothing was counted).
 *
 * @example
 * client.send({ cmd: 'sum' }, [1, 2]).subscribe({ error: (e: RpcRateLimitError) => e.code === 'RATE_LIMITED' && retryIn(e.retryAfterSeconds) });
 */
export interface RpcRateLimitError {
  readonly status: 'error';
  readonly code: RpcRateLimitCode;
  /** The rule (or the concurrency limit) that refused the call. */
  readonly rule?: string;
  /** The concurrency limit's slots (`CONCURRENCY_LIMITED` only). */
  readonly limit?: number;
  /** Whole seconds until a call may be admitted (not for `BANNED`). */
  readonly retryAfterSeconds?: number;
  readonly message: string;
}

/** The error of a refused call, from its verdict (undefined when admitted); `errorMessage` words a `RATE_LIMITED` one. */
export function rpcRateLimitError<C>(verdict: Verdict<C>, errorMessage?: string | ((violation: RateLimitViolation) => string)): RpcRateLimitError | undefined {
  return verdictRefusal(verdict, errorMessage);
}

/** The error of a call refused because every slot of its concurrency limit is taken; a slot may come free any moment. */
export function concurrencyLimitedError(name: string, limit: number): RpcRateLimitError {
  return { status: 'error', code: 'CONCURRENCY_LIMITED', rule: name, limit, retryAfterSeconds: 1, message: concurrencyLimitedDetail(name, limit) };
}

/**
 * The trailers of a refused gRPC call (its status is `RESOURCE_EXHAUSTED` for `RATE_LIMITED`,
 * `BLOCKED` and `CONCURRENCY_LIMITED`, `PERMISSION_DENIED` for `BANNED`, `UNAVAILABLE` for
 * `UNAVAILABLE`, `UNAUTHENTICATED` for `UNAUTHENTICATED`; its details are the error's `message`).
 */
export const GRPC_REFUSAL_TRAILERS = Object.freeze({
  /** Why the call was refused: the `code` of `RpcRateLimitError`. */
  code: 'rampart-code',
  /** The refusing rule or concurrency limit (`RATE_LIMITED`, `CONCURRENCY_LIMITED`). */
  rule: 'rampart-rule',
  /** Whole seconds until a call may be admitted, as HTTP's `Retry-After` (not for `BANNED`). */
  retryAfter: 'retry-after',
  /**
   * The same wait in milliseconds, the retry pushback of gRPC's retry design (gRFC A6): a client
   * whose service config retries the status waits this long; `-1` (a ban) tells it not to retry.
   */
  retryPushback: 'grpc-retry-pushback-ms',
} as const);
