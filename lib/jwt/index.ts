/**
 * `nest-rampart/jwt`: the user and group of a JSON Web Token as the client's identity. Needs jose (an
 * optional peer of the package, needed only here); the main entry point never loads it.
 */
export { jwtIdentity } from './jwt-identity.js';
export { MAX_TOKEN_LENGTH } from './jwt-verifier.js';
export type { JwtIdentityOptions } from './jwt-options.js';
export type { IdentityResolvers } from '../identity/identity-request.js';
export { IdentityError, type IdentityErrorOptions } from '../errors/identity.error.js';
