import type { CanActivate, Type } from '@nestjs/common';
import { createHash } from 'node:crypto';
import * as messages from '../errors/messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { DEFAULT_ADMIN_PATH, MIN_ADMIN_API_KEY_DISTINCT_CHARACTERS, MIN_ADMIN_API_KEY_LENGTH } from './admin.constants.js';
import type { RateLimitAdminOptions } from './admin-options.interface.js';

/** What decides which admin routes exist and how they are guarded, checked. */
export interface AdminExtras {
  /** Route prefix, without surrounding slashes. */
  readonly path: string;
  /** The app's guard, run first on every admin request. */
  readonly guard?: Type<CanActivate>;
  /** The app's positive answer: true for an operator. */
  readonly authorize?: RateLimitAdminOptions['authorize'];
  /** Decorators applied to every admin handler, for `guard` to read. */
  readonly routeDecorators?: readonly MethodDecorator[];
  /** Whether the dashboard is served at `/<path>/dashboard`. */
  readonly dashboard: boolean;
}

/** The admin API's checked settings: API keys, or the app's access control (never both). */
export interface AdminSettings extends AdminExtras {
  /** SHA-256 digests of the accepted API keys (the keys themselves are not kept); empty when the app decides. */
  readonly keyDigests: readonly Buffer[];
}

const PATH_SEGMENT = /^[A-Za-z0-9._~-]+$/;

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Checks `adminApiKey` (a key, or several for rotation) and returns their SHA-256 digests: at least
 * 16 characters, no whitespace (a Bearer token cannot hold it), at least 8 distinct characters (so
 * `aaaaaaaaaaaaaaaa` or `1212121212121212` is refused). Problems are appended to `problems`. The keys
 * never appear in a message.
 */
export function checkAdminApiKeys(value: unknown, problems: string[], name = 'adminApiKey'): Buffer[] {
  if (value === undefined) return [];
  const keys = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(keys) || keys.length === 0) {
    problems.push(messages.badAdminApiKey(value, name));
    return [];
  }
  const digests: Buffer[] = [];
  keys.forEach((key: unknown, i) => {
    const path = typeof value === 'string' ? name : `${name}[${i}]`;
    if (typeof key !== 'string') problems.push(messages.badAdminApiKey(key, path));
    else if (key.length < MIN_ADMIN_API_KEY_LENGTH) problems.push(messages.adminApiKeyTooShort(path, key.length, MIN_ADMIN_API_KEY_LENGTH));
    else if (/\s/.test(key)) problems.push(messages.adminApiKeyWhitespace(path));
    else if (distinctCharacters(key) < MIN_ADMIN_API_KEY_DISTINCT_CHARACTERS)
      problems.push(messages.adminApiKeyLowVariety(path, distinctCharacters(key), MIN_ADMIN_API_KEY_DISTINCT_CHARACTERS));
    else digests.push(sha256(key));
  });
  return digests;
}

function distinctCharacters(text: string): number {
  return new Set(text).size;
}

/**
 * The digests of the admin module's own `apiKey`.
 * @throws RateLimitConfigurationError listing every problem of the keys
 */
export function adminKeyDigests(apiKey: unknown): Buffer[] {
  const problems: string[] = [];
  const digests = checkAdminApiKeys(apiKey, problems, 'apiKey');
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  return digests;
}

/**
 * Checks what decides which routes exist and how they are guarded, when the module is defined.
 * `guard` alone is refused: its `true` cannot tell an operator from anyone (Nest's RolesGuard answers
 * true to a route without role metadata), so it needs `authorize` or `routeDecorators` beside it.
 * @throws RateLimitConfigurationError listing every problem
 */
export function checkAdminExtras(admin: RateLimitAdminOptions): AdminExtras {
  const problems: string[] = [];
  if (typeof admin !== 'object' || admin === null) throw new RateLimitConfigurationError([messages.badAdminOptions(admin)]);
  const rawPath = admin.path ?? DEFAULT_ADMIN_PATH;
  const path = typeof rawPath === 'string' ? rawPath.replace(/^\/+|\/+$/g, '') : '';
  if (typeof rawPath !== 'string' || path.length === 0 || path.length > 200 || !path.split('/').every((s) => PATH_SEGMENT.test(s))) {
    problems.push(messages.badAdminPath(rawPath));
  }
  const { guard, authorize, routeDecorators, dashboard = false } = admin;
  if (typeof dashboard !== 'boolean') problems.push(messages.badAdminDashboard(dashboard));
  if (guard !== undefined && typeof guard !== 'function') problems.push(messages.badAdminGuard(guard));
  if (authorize !== undefined && typeof authorize !== 'function') problems.push(messages.badAdminAuthorize(authorize));
  if (routeDecorators !== undefined && !(Array.isArray(routeDecorators) && routeDecorators.every((d: unknown) => typeof d === 'function'))) {
    problems.push(messages.badAdminRouteDecorators(routeDecorators));
  }
  if (typeof guard === 'function' && authorize === undefined && routeDecorators === undefined)
    problems.push(messages.adminGuardAlone(path || DEFAULT_ADMIN_PATH));
  if (routeDecorators !== undefined && guard === undefined) problems.push(messages.adminRouteDecoratorsWithoutGuard());
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  return {
    path,
    dashboard,
    ...(guard !== undefined ? { guard } : {}),
    ...(authorize !== undefined ? { authorize } : {}),
    ...(routeDecorators !== undefined ? { routeDecorators: Object.freeze([...routeDecorators]) } : {}),
  };
}

/**
 * The admin settings once the module options are known: credentials are required, API keys or the
 * app's access control, not both (one of them would silently decide).
 * @throws RateLimitConfigurationError when there are no credentials, or both kinds
 */
export function resolveAdminSettings(admin: AdminExtras, keyDigests: readonly Buffer[] | undefined): AdminSettings {
  const digests = keyDigests ?? [];
  const appDecides = admin.guard !== undefined || admin.authorize !== undefined;
  if (digests.length === 0 && !appDecides) throw new RateLimitConfigurationError([messages.adminWithoutCredentials(admin.path)]);
  if (digests.length > 0 && appDecides) throw new RateLimitConfigurationError([messages.adminKeyAndAppAccess(admin.path)]);
  return Object.freeze({ ...admin, keyDigests: Object.freeze([...digests]) });
}
