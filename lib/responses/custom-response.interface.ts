import type { ExecutionContext } from '@nestjs/common';
import type { IdentityError } from '../errors/identity.error.js';

/**
 * A response of the app's own for a refused HTTP request (`denialResponse`, `identityErrorResponse`).
 * Every field is optional: what is left out is the default response's.
 */
export interface CustomResponse {
  /** 400 to 599: a refused request never looks admitted. @default the default response's (429, 403, 503, 401) */
  readonly status?: number;
  /**
   * A string is sent as it is (`text/plain; charset=utf-8` unless `headers` name a `Content-Type`); an
   * object or an array as JSON (`application/json` unless named).
   * @default the default problem details, with `status` (and `title`) of the status given
   */
  readonly body?: unknown;
  /**
   * Headers added to Rampart's (one set to undefined is left out). The rate-limit headers and
   * `Retry-After` are always Rampart's (naming one here makes the answer invalid), and so are
   * `Content-Length` and `Transfer-Encoding`.
   */
  readonly headers?: Readonly<Record<string, string | undefined>>;
}

/**
 * Why a request was refused: a rule (`limited`), a block, a ban, the deny-list, the store down under
 * `onStoreError: 'deny'`, or every slot of a `@ConcurrencyLimit` taken (`concurrency-limited`).
 */
export type DenialReason = 'limited' | 'blocked' | 'banned' | 'deny-listed' | 'unavailable' | 'concurrency-limited';

/** A refused request, as `denialResponse` is told of it. */
export interface Denial {
  readonly reason: DenialReason;
  /** The status of the default response: 429 (limited, blocked, concurrency-limited), 403 (banned, deny-listed), 503 (unavailable). */
  readonly status: number;
  /** The default response's problem details (see `RateLimitProblem` and the others). */
  readonly body: Readonly<Record<string, unknown>>;
  /** The rule that refused it (`limited`), or the concurrency limit (`concurrency-limited`). */
  readonly rule?: string;
  /** The rule's limit and window (`limited`); the concurrency limit's slots (`concurrency-limited`). */
  readonly limit?: number;
  readonly windowMs?: number;
  /** Whole seconds until a request may be admitted, as `Retry-After` says (not for a ban). */
  readonly retryAfterSeconds?: number;
  /** When the block ends, epoch ms (`blocked`, and `limited` inside a rule's `blockDurationMs`). */
  readonly blockedUntilMs?: number;
}

/**
 * The app's response to a refused HTTP request; `undefined` for the default one. It is called
 * synchronously; if it throws or answers something invalid (a status below 400, a body that is no
 * string, object or array...), the default response is sent and the mistake logged once.
 */
export type DenialResponse = (denial: Denial, context: ExecutionContext) => CustomResponse | undefined;

/** The app's response to a request whose identity could not be told (an `IdentityError`); `undefined` for the default 401. */
export type IdentityErrorResponse = (error: IdentityError, context: ExecutionContext) => CustomResponse | undefined;
