import { createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';
import type { CryptoKey, JSONWebKeySet, JWK, JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { checkFields, isObject } from '../core/option-objects.js';
import * as identityMessages from '../errors/identity-messages.js';
import * as messages from '../errors/messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { loadJose, type Jose } from './jose-loader.js';

/** Options of `jwtIdentity`: one of `secret`, `publicKey` or `jwks`, and the algorithms tokens are signed with. */
export interface JwtIdentityOptions {
  /** The HMAC secret (HS256, HS384, HS512): at least 32, 48 or 64 bytes. */
  secret?: string | Uint8Array;
  /** The public key (RS*, PS*, ES*, EdDSA): PEM text, a `KeyObject`, a `CryptoKey` or a JWK. */
  publicKey?: string | KeyObject | CryptoKey | JWK;
  /** A key set: `createRemoteJWKSet(url)` (or any such function), or a JWKS object `{ keys: [...] }`. */
  jwks?: JWTVerifyGetKey | JSONWebKeySet;
  /**
   * The algorithms tokens may be signed with; required with `secret` or `publicKey` (with `jwks`, each
   * key's own). `none` is never accepted, and a token's header never chooses beyond this list.
   * @example ['HS256']
   */
  algorithms?: readonly string[];
  /** The `iss` tokens must carry. */
  issuer?: string | readonly string[];
  /** The `aud` tokens must carry (one of them). */
  audience?: string | readonly string[];
  /** The claim that names the user: a string, or a number (its text). @default 'sub' */
  userClaim?: string;
  /**
   * The claim that names the group: a string; a list (`roles`) gives its first string. Or a function
   * of the verified claims: `(claims) => (claims.roles?.includes('admin') ? 'admin' : undefined)`.
   * @default 'group'
   */
  groupClaim?: string | ((claims: JWTPayload) => unknown);
  /**
   * The request header that carries the token. `authorization` takes `Bearer <token>` (another scheme,
   * such as `Basic`, is no token); another header takes the token alone (`Bearer ` allowed).
   * @default 'authorization'
   */
  header?: string;
  /**
   * What a request whose token is present but invalid (bad signature, expired, wrong issuer or audience,
   * malformed) gets: `'reject'` an `IdentityError` (HTTP 401); `'anonymous'` counted by its address
   * in the `default` group. Never its claimed user or group.
   * @default 'reject'
   */
  onInvalid?: 'reject' | 'anonymous';
  /** Leeway for `exp` and `nbf`, in seconds. @default 0 */
  clockToleranceSeconds?: number;
  /** What `exp` and `nbf` are checked against: give the module's clock. @default the system clock */
  clock?: Clock;
}

/** The checked options. */
export interface JwtConfig {
  readonly jose: Jose;
  readonly key: KeyObject | CryptoKey | Uint8Array | JWTVerifyGetKey;
  readonly algorithms?: readonly string[];
  readonly issuer?: string | readonly string[];
  readonly audience?: string | readonly string[];
  readonly userClaim: string;
  readonly groupClaim: string | ((claims: JWTPayload) => unknown);
  readonly header: string;
  readonly onInvalid: 'reject' | 'anonymous';
  readonly clockToleranceSeconds: number;
  readonly clock: Clock;
}

const FIELDS = [
  'secret',
  'publicKey',
  'jwks',
  'algorithms',
  'issuer',
  'audience',
  'userClaim',
  'groupClaim',
  'header',
  'onInvalid',
  'clockToleranceSeconds',
  'clock',
];
/** Each HMAC algorithm and the shortest secret it takes, in bytes: its hash's size (RFC 7518, 3.2). */
const HMAC: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };
/** The asymmetric algorithms, and the key types each verifies with. */
const ASYMMETRIC: Readonly<Record<string, readonly string[]>> = {
  RS256: ['rsa'],
  RS384: ['rsa'],
  RS512: ['rsa'],
  PS256: ['rsa', 'rsa-pss'],
  PS384: ['rsa', 'rsa-pss'],
  PS512: ['rsa', 'rsa-pss'],
  ES256: ['ec:prime256v1'],
  ES384: ['ec:secp384r1'],
  ES512: ['ec:secp521r1'],
  EdDSA: ['ed25519', 'ed448'],
  Ed25519: ['ed25519'],
};
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** Checks `jwtIdentity`'s options; throws one `RateLimitConfigurationError` listing every problem. */
export function checkJwtOptions(given: JwtIdentityOptions): JwtConfig {
  const problems: string[] = [];
  const options = given;
  if (!isObject(given)) throw new RateLimitConfigurationError([identityMessages.notAnOptionsObject('jwtIdentity', options)], 'jwtIdentity');
  checkFields(given, 'jwtIdentity', FIELDS, problems);
  let jose: Jose | undefined;
  try {
    jose = loadJose();
  } catch (error) {
    problems.push(identityMessages.joseMissing(error));
  }
  const key = checkKey(options, jose, problems);
  const { userClaim = 'sub', groupClaim = 'group', onInvalid = 'reject', clockToleranceSeconds = 0, clock = systemClock } = options;
  for (const field of ['issuer', 'audience'] as const) {
    const value: unknown = options[field];
    const list = typeof value === 'string' ? [value] : value;
    if (value !== undefined && (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v.length > 0))) {
      problems.push(identityMessages.badClaimValue(`jwtIdentity.${field}`, value));
    }
  }
  if (typeof userClaim !== 'string' || userClaim.length === 0) problems.push(identityMessages.badClaimName('jwtIdentity.userClaim', userClaim, false));
  if (typeof groupClaim !== 'function' && (typeof groupClaim !== 'string' || groupClaim.length === 0)) {
    problems.push(identityMessages.badClaimName('jwtIdentity.groupClaim', groupClaim, true));
  }
  const header = typeof options.header === 'string' ? options.header.toLowerCase() : (options.header ?? 'authorization');
  if (typeof header !== 'string' || !HEADER_NAME.test(header)) problems.push(identityMessages.badHeaderName(options.header));
  if (onInvalid !== 'reject' && onInvalid !== 'anonymous') problems.push(identityMessages.badOnInvalid(onInvalid));
  if (typeof clockToleranceSeconds !== 'number' || !Number.isFinite(clockToleranceSeconds) || clockToleranceSeconds < 0) {
    problems.push(identityMessages.badClockTolerance(clockToleranceSeconds));
  }
  if (typeof clock?.now !== 'function') problems.push(messages.badClock(clock).replace(/^clock/, 'jwtIdentity.clock'));
  if (problems.length > 0) throw new RateLimitConfigurationError(problems, 'jwtIdentity');
  return Object.freeze({
    jose: jose as Jose,
    key: key as JwtConfig['key'],
    ...(options.algorithms !== undefined ? { algorithms: Object.freeze([...options.algorithms]) } : {}),
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    userClaim,
    groupClaim,
    header,
    onInvalid,
    clockToleranceSeconds,
    clock,
  });
}

/** The key to verify with, from the one key source given, and its algorithms checked against it; problems appended. */
function checkKey(options: JwtIdentityOptions, jose: Jose | undefined, problems: string[]): JwtConfig['key'] | undefined {
  const given = (['secret', 'publicKey', 'jwks'] as const).filter((field) => options[field] !== undefined);
  if (given.length !== 1) {
    problems.push(identityMessages.oneKeySource(given));
    return undefined;
  }
  const { secret, publicKey, jwks } = options;
  if (secret !== undefined) {
    const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret instanceof Uint8Array ? secret : undefined;
    if (bytes === undefined) problems.push(identityMessages.badSecret(secret));
    for (const algorithm of checkAlgorithms(options.algorithms, 'a secret', Object.keys(HMAC), true, problems)) {
      if (bytes !== undefined && bytes.length < HMAC[algorithm]!) problems.push(identityMessages.shortSecret(algorithm, bytes.length, HMAC[algorithm]!));
    }
    return bytes;
  }
  if (publicKey !== undefined) {
    const key = publicKeyOf(publicKey, problems);
    const kind = key instanceof KeyObject ? keyKind(key) : undefined;
    for (const algorithm of checkAlgorithms(options.algorithms, 'a public key', Object.keys(ASYMMETRIC), true, problems)) {
      if (kind !== undefined && !ASYMMETRIC[algorithm]!.includes(kind)) {
        problems.push(identityMessages.algorithmNotFor(algorithm, `this public key (${kind})`, algorithmsFor(kind)));
      }
    }
    return key;
  }
  checkAlgorithms(options.algorithms, 'a key set', [...Object.keys(HMAC), ...Object.keys(ASYMMETRIC)], false, problems);
  if (typeof jwks === 'function') return jwks;
  if (!isObject(jwks) || !Array.isArray(jwks.keys)) {
    problems.push(identityMessages.badJwks('got neither'));
    return undefined;
  }
  try {
    return jose?.createLocalJWKSet(jwks as JSONWebKeySet);
  } catch (error) {
    problems.push(identityMessages.badJwks((error as Error).message));
    return undefined;
  }
}

/** The algorithms given, those that `source` verifies; problems appended. */
function checkAlgorithms(value: unknown, source: string, allowed: readonly string[], required: boolean, problems: string[]): string[] {
  if (value === undefined) {
    if (required) problems.push(identityMessages.algorithmsRequired(source, allowed));
    return [];
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    problems.push(identityMessages.badAlgorithms(value));
    return [];
  }
  const valid: string[] = [];
  for (const algorithm of value as string[]) {
    if (algorithm.toLowerCase() === 'none') problems.push(identityMessages.noneAlgorithm());
    else if (!allowed.includes(algorithm)) problems.push(identityMessages.algorithmNotFor(algorithm, source, allowed));
    else valid.push(algorithm);
  }
  return valid;
}

/** A public key as jose verifies with it; problems appended. */
function publicKeyOf(value: unknown, problems: string[]): KeyObject | CryptoKey | undefined {
  try {
    if (typeof value === 'string') return createPublicKey(value);
    if (value instanceof KeyObject) {
      if (value.type === 'secret') throw new Error('got a secret key: use the secret option');
      return value.type === 'private' ? createPublicKey(value) : value;
    }
    if (isCryptoKey(value)) {
      if (value.type !== 'public') throw new Error(`got a ${value.type} CryptoKey`);
      return value;
    }
    if (isObject(value) && typeof value['kty'] === 'string' && value['kty'] !== 'oct') return createPublicKey({ key: value as JsonWebKey, format: 'jwk' });
    throw new Error(`got ${typeof value === 'object' && value !== null ? 'an object that is none of them' : typeof value}`);
  } catch (error) {
    problems.push(identityMessages.badPublicKey((error as Error).message));
    return undefined;
  }
}

/** A Web Crypto key (Node's global `CryptoKey`; the types of this package know no DOM). */
function isCryptoKey(value: unknown): value is CryptoKey {
  const WebCryptoKey = (globalThis as { CryptoKey?: new () => CryptoKey }).CryptoKey;
  return typeof WebCryptoKey === 'function' && value instanceof WebCryptoKey;
}

/** A key's type as `ASYMMETRIC` lists it: `rsa`, `ec:<curve>`, `ed25519`... */
function keyKind(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  return type === 'ec' ? `ec:${key.asymmetricKeyDetails?.namedCurve}` : type;
}

const algorithmsFor = (kind: string) => Object.keys(ASYMMETRIC).filter((algorithm) => ASYMMETRIC[algorithm]!.includes(kind));
