import { checkFields, isObject } from '../core/option-objects.js';
import { IdentityError } from '../errors/identity.error.js';
import * as identityMessages from '../errors/identity-messages.js';
import * as messages from '../errors/messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { identityText } from '../engine/rampart-request.js';
import { identityRequest, type IdentityResolvers } from './identity-request.js';

export interface SessionIdentityOptions {
  /**
   * Where the session holds the user's id: a key, or a dotted path to a nested value (`passport.user`,
   * `user.id`). A string or a number is an identity; anything else (an object, an array) is none.
   * @default 'user'
   */
  userKey?: string;
  /** Where the session holds the user's group (a dotted path too); anything but a group name is the `default` group. @default 'group' */
  groupKey?: string;
  /**
   * Refuse requests whose session has no user with an `IdentityError` (HTTP 401) instead of counting
   * them by their address. Contexts without an HTTP request (microservice calls) are still counted by
   * their address.
   * @default false
   */
  required?: boolean;
}

/** A session as the stores make it: express-session's object of values, or `get(key)` (@fastify/session, @fastify/secure-session). */
interface SessionLike {
  get?(key: string): unknown;
}

/**
 * The user and group of the request's session (`request.session`, as express-session,
 * `@fastify/session` and `@fastify/secure-session` set it; `socket.request.session` for a socket.io
 * gateway that shares the session middleware). A session without a user is counted by its address
 * in the `default` group, or refused with `required`.
 *
 * @example
 * RateLimitModule.forRoot({ ...sessionIdentity({ userKey: 'passport.user' }), groups: { admin: { unlimited: true } } })
 */
export function sessionIdentity(options: SessionIdentityOptions = {}): IdentityResolvers {
  const problems: string[] = [];
  if (!isObject(options)) problems.push(identityMessages.notAnOptionsObject('sessionIdentity', options));
  else checkFields(options, 'sessionIdentity', ['userKey', 'groupKey', 'required'], problems);
  const { userKey = 'user', groupKey = 'group', required = false } = isObject(options) ? options : {};
  const userPath = sessionPath('sessionIdentity.userKey', userKey, problems);
  const groupPath = sessionPath('sessionIdentity.groupKey', groupKey, problems);
  if (typeof required !== 'boolean') problems.push(messages.badBoolean('sessionIdentity.required', required));
  if (problems.length > 0) throw new RateLimitConfigurationError(problems, 'sessionIdentity');

  /** The session of the request, and its user; throws when one is required and there is none. */
  const userOf = (context: unknown): { readonly session: unknown; readonly user: string | undefined } => {
    const request = identityRequest(context);
    const session = (request as { readonly session?: unknown } | undefined)?.session;
    const user = identityText(valueAt(session, userPath));
    if (user === undefined && required && request !== undefined) throw new IdentityError(identityMessages.sessionRequired(), { code: 'SESSION_REQUIRED' });
    return { session, user };
  };
  return {
    keyResolver: (context) => userOf(context).user,
    groupResolver: (context) => {
      const { session, user } = userOf(context);
      // A session without a user is anonymous: whatever group it names, it is in the default one.
      if (user === undefined) return undefined;
      const group = valueAt(session, groupPath);
      return typeof group === 'string' ? group : undefined;
    },
  };
}

/** A key or dotted path, as its parts; problems appended. */
function sessionPath(path: string, value: unknown, problems: string[]): readonly string[] {
  const parts = typeof value === 'string' ? value.split('.') : [];
  if (parts.length === 0 || parts.some((part) => part.length === 0)) problems.push(identityMessages.badSessionKey(path, value));
  return parts;
}

/** The session's value at `path`: its first part read by `get()` when the session has one, each other as an own property. */
function valueAt(session: unknown, path: readonly string[]): unknown {
  if (typeof session !== 'object' || session === null) return undefined;
  const [first, ...rest] = path as [string, ...string[]];
  const store = session as SessionLike;
  let value = typeof store.get === 'function' ? store.get(first) : own(session, first);
  for (const key of rest) value = own(value, key);
  return value;
}

/** An own property of an object (never one of its prototype's: `constructor`, `__proto__`). */
function own(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}
