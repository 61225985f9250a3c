/**
 * The texts of the identity helpers (`ipIdentity`, `sessionIdentity`, `jwtIdentity`), of identity
 * errors, and of the custom responses (`denialResponse`, `identityErrorResponse`).
 */
import { describe, errorText } from './describe.js';

// Answers to clients: they say what to do, and nothing of how the check failed.

export const invalidToken = () => 'The bearer token is invalid or has expired. Sign in again to get a new one.';

export const sessionRequired = () => 'This service needs a signed-in session. Sign in, then try again.';

// Startup problems.

export const notAnOptionsObject = (helper: string, value: unknown) => `${helper}'s options must be an object, got ${describe(value)}.`;

export const badRangeGroups = (value: unknown) =>
  `ipIdentity.groups must be an object of group names to their address ranges ({ internal: ['10.0.0.0/8'] }), got ${describe(value)}.`;

export const badRangeList = (path: string, value: unknown) =>
  `${path} must be a non-empty list of IP addresses or CIDR ranges such as ['10.0.0.0/8', 'fd00::/8'], got ${describe(value)}.`;

export const rangeInTwoGroups = (range: string, first: string, second: string) =>
  `ipIdentity.groups: the range ${range} is in both '${first}' and '${second}'. Keep it in one group.`;

export const badSessionKey = (path: string, value: unknown) =>
  `${path} must be a session key, or a dotted path to one ('passport.user'), without empty parts; got ${describe(value)}.`;

export const joseMissing = (error: unknown) =>
  `jwtIdentity needs the jose package to verify tokens, and it could not be loaded (${errorText(error)}). Install it: npm install jose`;

export const oneKeySource = (given: readonly string[]) =>
  given.length === 0
    ? 'jwtIdentity needs one of secret (HS256), publicKey (RS256, ES256...) or jwks (a key set) to verify tokens with.'
    : `jwtIdentity takes one of secret, publicKey or jwks, got ${given.join(' and ')}. Keep the one your tokens are signed for.`;

export const algorithmsRequired = (source: string, allowed: readonly string[]) =>
  `jwtIdentity.algorithms is required with ${source}: list the algorithms your tokens are signed with (${allowed.join(', ')}), e.g. algorithms: ['${allowed[0]}']. The token's own header never chooses.`;

export const badAlgorithms = (value: unknown) =>
  `jwtIdentity.algorithms must be a non-empty list of algorithm names such as ['HS256'], got ${describe(value)}.`;

export const noneAlgorithm = () =>
  "jwtIdentity.algorithms lists 'none': an unsigned token proves nothing, and anyone could claim any user and group. Remove it.";

export const algorithmNotFor = (algorithm: string, source: string, allowed: readonly string[]) =>
  `jwtIdentity.algorithms: '${algorithm}' cannot be verified with ${source}; ${allowed.length > 0 ? `use ${allowed.join(', ')}` : 'give a key that verifies signatures'}.`;

export const badSecret = (value: unknown) => `jwtIdentity.secret must be a string or a Uint8Array (a Buffer), got ${describe(value)}.`;

export const shortSecret = (algorithm: string, bytes: number, needed: number) =>
  `jwtIdentity.secret is ${bytes} bytes long; ${algorithm} needs at least ${needed} (RFC 7518, 3.2). Use a longer random secret, e.g. openssl rand -base64 ${needed}.`;

export const badPublicKey = (reason: string) =>
  `jwtIdentity.publicKey must be a public key: a PEM text (-----BEGIN PUBLIC KEY-----), a KeyObject, a CryptoKey or a JWK object (${reason}).`;

export const badJwks = (reason: string) =>
  `jwtIdentity.jwks must be a key set: createRemoteJWKSet(new URL('https://issuer/.well-known/jwks.json')), or a JWKS object { keys: [...] } (${reason}).`;

export const badClaimValue = (path: string, value: unknown) => `${path} must be a non-empty string or a non-empty list of strings, got ${describe(value)}.`;

export const badClaimName = (path: string, value: unknown, orFunction: boolean) =>
  `${path} must be the name of a claim${orFunction ? ', or a function of the claims' : ''}, got ${describe(value)}.`;

export const badHeaderName = (value: unknown) => `jwtIdentity.header must be the name of a request header ('authorization'), got ${describe(value)}.`;

export const badOnInvalid = (value: unknown) =>
  `jwtIdentity.onInvalid must be 'reject' (answer 401) or 'anonymous' (count the request by its address), got ${describe(value)}.`;

export const badClockTolerance = (value: unknown) => `jwtIdentity.clockToleranceSeconds must be a number of 0 or more, got ${describe(value)}.`;

// Custom responses, at run time: reported once per option and kind of mistake.

export const customResponseThrew = (option: string, error: unknown) =>
  `${option} threw (${errorText(error)}); the default response was sent instead. Fix the callback: it must return { status?, body?, headers? } or undefined.`;

export const badCustomResponse = (option: string, problem: string) => `${option} returned ${problem}; the default response was sent instead.`;
