import type { JWTPayload, JWTVerifyOptions } from 'jose';
import { identityText } from '../engine/rampart-request.js';
import { IdentityError } from '../errors/identity.error.js';
import * as identityMessages from '../errors/identity-messages.js';
import { requestHeaders } from '../http-exchange.js';
import type { JwtConfig } from './jwt-options.js';

/** What a request's token says: nothing (no token), who it names (verified), or that it is invalid. */
export type TokenOutcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'valid'; readonly user?: string; readonly group?: string; readonly expiresAt?: number }
  | { readonly kind: 'invalid'; readonly error: IdentityError };

/** Tokens longer than this are invalid unread (8 KiB: far more than any real token). */
export const MAX_TOKEN_LENGTH = 8192;

const NONE: TokenOutcome = Object.freeze({ kind: 'none' });
/** `<scheme> <credentials>` of an Authorization header (RFC 9110, 11.4). */
const CREDENTIALS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]+(.*)$/s;

/**
 * Verifies the token of each request once, however many resolvers ask (the key resolver, the group
 * resolver, every field of a GraphQL operation): the outcome is kept with the request, and given
 * synchronously once known. A kept verdict of a token that has expired since is verified again (a
 * WebSocket connection's messages share its upgrade request).
 */
export class JwtVerifier {
  private readonly outcomes = new WeakMap<object, TokenOutcome | Promise<TokenOutcome>>();
  private readonly options: JWTVerifyOptions;

  constructor(private readonly config: JwtConfig) {
    this.options = {
      ...(config.algorithms ? { algorithms: [...config.algorithms] } : {}),
      ...(config.issuer !== undefined ? { issuer: config.issuer as string | string[] } : {}),
      ...(config.audience !== undefined ? { audience: config.audience as string | string[] } : {}),
      clockTolerance: config.clockToleranceSeconds,
    };
  }

  /** What the token of `request` says. */
  outcome(request: object): TokenOutcome | Promise<TokenOutcome> {
    const known = this.outcomes.get(request);
    if (known !== undefined && !this.expired(known)) return known;
    const token = this.tokenOf(request);
    if (token === undefined) return NONE;
    if (token.length > MAX_TOKEN_LENGTH) return invalid(new Error(`a token of ${token.length} characters`));
    const pending = this.verify(token).then((outcome) => {
      this.outcomes.set(request, outcome);
      return outcome;
    });
    this.outcomes.set(request, pending);
    return pending;
  }

  /**
   * The token the request carries: `Bearer <token>` (the scheme in any case), or, but in the
   * Authorization header, the value alone. Undefined without one, and for an Authorization header of
   * another scheme (`Basic`): such a client is anonymous. Several values are one malformed token.
   */
  private tokenOf(request: object): string | undefined {
    const { header } = this.config;
    const raw = requestHeaders(request)[header];
    if (raw === undefined) return undefined;
    const value = (Array.isArray(raw) ? raw.join(', ') : raw).trim();
    if (value.length === 0) return undefined;
    const credentials = CREDENTIALS.exec(value);
    if (credentials === null) return value;
    if (credentials[1]!.toLowerCase() === 'bearer') return credentials[2]!.trim();
    return header === 'authorization' ? undefined : value;
  }

  private async verify(token: string): Promise<TokenOutcome> {
    const { jose, key, clock } = this.config;
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, key as Parameters<typeof jose.jwtVerify>[1], { ...this.options, currentDate: new Date(clock.now()) }));
    } catch (error) {
      return invalid(error);
    }
    const user = identityText(payload[this.config.userClaim]);
    const group = this.groupOf(payload);
    return {
      kind: 'valid',
      ...(user !== undefined ? { user } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp } : {}),
    };
  }

  /** The group a verified token names: the claim's string, or the first string of a list; a function's answer. */
  private groupOf(payload: JWTPayload): string | undefined {
    const { groupClaim } = this.config;
    let value: unknown;
    try {
      value = typeof groupClaim === 'function' ? groupClaim(payload) : payload[groupClaim];
    } catch {
      // The app's function failed on these claims: no group, the default one (never a chosen one).
      return undefined;
    }
    const first: unknown = Array.isArray(value) ? value.find((entry) => typeof entry === 'string') : value;
    return typeof first === 'string' ? first : undefined;
  }

  /** Whether a kept outcome is of a token that has expired since it was verified (as jose checks `exp`). */
  private expired(known: TokenOutcome | Promise<TokenOutcome>): boolean {
    const expiresAt = (known as { readonly expiresAt?: number }).expiresAt;
    return expiresAt !== undefined && expiresAt <= Math.floor(this.config.clock.now() / 1000) - this.config.clockToleranceSeconds;
  }
}

/** The outcome of an invalid token: what went wrong is its error's cause, never told to the client. */
function invalid(cause: unknown): TokenOutcome {
  return {
    kind: 'invalid',
    error: new IdentityError(identityMessages.invalidToken(), { code: 'INVALID_TOKEN', challenge: 'Bearer error="invalid_token"', cause }),
  };
}
