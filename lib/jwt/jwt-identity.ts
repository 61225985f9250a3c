import { isThenable } from '../core/thenable.js';
import { identityRequest, type IdentityResolvers } from '../identity/identity-request.js';
import { checkJwtOptions, type JwtIdentityOptions } from './jwt-options.js';
import { JwtVerifier, type TokenOutcome } from './jwt-verifier.js';

/**
 * The user and group of a JSON Web Token, verified with jose (an optional peer: install it). The
 * token is read from the `Authorization: Bearer` header (or `header`) of the request, of a GraphQL
 * operation's HTTP request, or of a WebSocket connection's upgrade request, and verified once per
 * request. A request without a token is counted by its address in the `default` group. A token that
 * is present but invalid never gives its claims: the request is refused with an `IdentityError`
 * (HTTP 401, `WWW-Authenticate: Bearer error="invalid_token"`), or, with `onInvalid: 'anonymous'`,
 * counted by its address in the `default` group. Misconfigurations stop the app at startup, every
 * one listed in one `RateLimitConfigurationError`.
 *
 * @example
 * RateLimitModule.forRoot({
 *   ...jwtIdentity({ secret: process.env.JWT_SECRET, algorithms: ['HS256'], issuer: 'https://auth.example.com' }),
 *   groups: { admin: { unlimited: true } },
 *   rules: [{ limit: 100, windowMs: 60_000 }, { groups: ['partner'], limit: 1_000, windowMs: 60_000 }],
 * })
 */
export function jwtIdentity(options: JwtIdentityOptions): IdentityResolvers {
  const config = checkJwtOptions(options);
  const verifier = new JwtVerifier(config);
  const resolver = (pick: (outcome: TokenOutcome & { readonly kind: 'valid' }) => string | undefined) => {
    const answer = (outcome: TokenOutcome): string | undefined => {
      if (outcome.kind === 'valid') return pick(outcome);
      if (outcome.kind === 'invalid' && config.onInvalid === 'reject') throw outcome.error;
      return undefined;
    };
    return (context: unknown): string | undefined | Promise<string | undefined> => {
      const request = identityRequest(context);
      if (request === undefined) return undefined;
      const outcome = verifier.outcome(request);
      return isThenable(outcome) ? outcome.then(answer) : answer(outcome);
    };
  };
  return { keyResolver: resolver((outcome) => outcome.user), groupResolver: resolver((outcome) => outcome.group) };
}
