import { GraphQLError } from 'graphql';
import type { Verdict } from '../engine/verdict.js';
import type { RateLimitViolation } from '../rate-limit-options.interface.js';
import { verdictRefusal as engineRefusal, type RefusalCode } from '../engine/verdict-refusal.js';
import { isIdentityError } from '../errors/identity.error.js';

/**
 * Why Rampart refused a GraphQL field, operation or subscription event (`extensions.code`): a rule
 * (`RATE_LIMITED`, with `rule` and `retryAfterSeconds`), a block (`BLOCKED`), a ban or the deny-list
 * (`BANNED`), the store down under `onStoreError: 'deny'` (`UNAVAILABLE`); or, before execution, a
 * document too long (`QUERY_TOO_LARGE`), too deep (`QUERY_TOO_DEEP`) or too complex (`QUERY_TOO_COMPLEX`);
 * or, closing a subscription connection, too many open at once (`TOO_MANY_CONNECTIONS`); or a client
 * that could not be identified (`UNAUTHENTICATED`: a resolver threw an `IdentityError`, an invalid token).
 */
export type GraphqlRateLimitCode = RefusalCode | 'QUERY_TOO_LARGE' | 'QUERY_TOO_DEEP' | 'QUERY_TOO_COMPLEX' | 'TOO_MANY_CONNECTIONS' | 'UNAUTHENTICATED';

/** The `extensions` of a GraphQL error Rampart answers with. */
export interface GraphqlRateLimitExtensions {
  readonly code: GraphqlRateLimitCode;
  /** The rule that refused (`RATE_LIMITED` only). */
  readonly rule?: string;
  /** Whole seconds until the client may try again (`RATE_LIMITED`, `BLOCKED`, `UNAVAILABLE`). */
  readonly retryAfterSeconds?: number;
  /**
   * The measure and its maximum (`QUERY_TOO_LARGE`: characters, `QUERY_TOO_DEEP`: depth,
   * `QUERY_TOO_COMPLEX`: complexity, `TOO_MANY_CONNECTIONS`: open connections).
   */
  readonly limit?: number;
  readonly actual?: number;
}

/** A refusal: its message and extensions, for either driver's error. */
export interface Refusal {
  readonly message: string;
  readonly extensions: GraphqlRateLimitExtensions;
  /** The HTTP status the whole response gets when the operation is refused before it runs. */
  readonly status: number;
}

/** The refusal of a verdict; undefined when it admits. `errorMessage` words `RATE_LIMITED`. */
export function verdictRefusal<C>(verdict: Verdict<C>, errorMessage?: string | ((violation: RateLimitViolation) => string)): Refusal | undefined {
  const error = engineRefusal(verdict, errorMessage);
  if (error === undefined) return undefined;
  const { message, code, rule, retryAfterSeconds } = error;
  const status = code === 'BANNED' ? 403 : code === 'UNAVAILABLE' ? 503 : 429;
  return { message, status, extensions: { code, ...(rule !== undefined ? { rule } : {}), ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) } };
}

/**
 * The refusal of a request whose client could not be identified: an `IdentityError` thrown by a key or
 * group resolver (HTTP 401 when the whole operation is refused). Any other error is thrown on.
 */
export function unidentifiedRefusal(error: unknown): Refusal {
  if (!isIdentityError(error)) throw error;
  return { message: error.message, status: 401, extensions: { code: 'UNAUTHENTICATED' } };
}

/** A GraphQL error carrying a refusal, as a resolver throws it or a subscription event gets it. */
export function graphqlError(refusal: Refusal): GraphQLError {
  return new GraphQLError(refusal.message, { extensions: { ...refusal.extensions } });
}
