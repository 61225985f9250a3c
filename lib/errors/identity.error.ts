import { isThenable } from '../core/thenable.js';

/** Marks Rampart's identity errors, so that one thrown by another copy of the package is known too. */
const IDENTITY_ERROR = Symbol.for('nest-rampart:identity-error');

/** What an `IdentityError` may carry besides its message. */
export interface IdentityErrorOptions {
  /** A stable name of what went wrong, for the app's own handling (`identityErrorResponse`). @default 'IDENTITY_REQUIRED' */
  readonly code?: string;
  /**
   * The `WWW-Authenticate` challenge the HTTP answer carries (`Bearer error="invalid_token"` for a
   * bad JWT); none when absent.
   */
  readonly challenge?: string;
  /** What caused it (a verification error): kept for logs and the app, never sent to the client. */
  readonly cause?: unknown;
}

/**
 * Thrown by a `keyResolver` or a `groupResolver` that cannot tell who the client is: a token that is
 * present but invalid, a session that is required but has no user. The request is refused, never
 * admitted and never counted: HTTP answers 401 (problem details, or the module's
 * `identityErrorResponse`), GraphQL an error with `extensions.code: 'UNAUTHENTICATED'`, WebSocket and
 * microservice handlers their error with `code: 'UNAUTHENTICATED'`.
 *
 * Its `message` is sent to the client as it is: say nothing internal in it (put the details in `cause`).
 *
 * @example
 * keyResolver: (context) => {
 *   const user = context.switchToHttp().getRequest().user;
 *   if (!user) throw new IdentityError('Sign in to use this API.');
 *   return user.id;
 * }
 */
export class IdentityError extends Error {
  readonly code: string;
  readonly challenge?: string;

  constructor(message: string, options: IdentityErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IdentityError';
    this.code = options.code ?? 'IDENTITY_REQUIRED';
    if (options.challenge !== undefined) this.challenge = options.challenge;
    Object.defineProperty(this, IDENTITY_ERROR, { value: true });
  }
}

/** Whether `value` is an `IdentityError` (of this copy of the package or another). */
export function isIdentityError(value: unknown): value is IdentityError {
  return typeof value === 'object' && value !== null && (value as { [IDENTITY_ERROR]?: unknown })[IDENTITY_ERROR] === true;
}

/**
 * Runs `step` (which identifies the client, then decides); an `IdentityError` it throws or rejects
 * with is answered by `refuse` (which throws the protocol's refusal), any other error passes.
 */
export function whenUnidentified<T>(step: () => T | PromiseLike<T>, refuse: (error: IdentityError) => T): T | Promise<T> {
  const refused = (error: unknown): T => {
    if (!isIdentityError(error)) throw error;
    return refuse(error);
  };
  try {
    const result = step();
    return isThenable(result) ? Promise.resolve(result).catch(refused) : result;
  } catch (error) {
    return refused(error);
  }
}
