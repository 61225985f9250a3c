import type { CanActivate, Type } from '@nestjs/common';
import { createHash } from 'node:crypto';
import * as messages from '../errors/messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { DEFAULT_ADMIN_PATH, MIN_ADMIN_API_KEY_DISTINCT_CHARACTERS, MIN_ADMIN_API_KEY_LENGTH } from './admin.constants.js';
import type { RateLimitAdminOptions } from './admin-options.interface.js';

/** The admin API's checked settings. */
export interface AdminSettings {
  /** Route prefix, without surrounding slashes. */
  readonly path: string;
  /** SHA-256 digests of the accepted API keys (the keys themselves are not kept). */
  readonly keyDigests: readonly Buffer[];
  /** The app's guard deciding access instead of the API keys. */
  readonly guard?: Type<CanActivate>;
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
 * Checks what decides which routes exist (`admin.path`, `admin.guard`), when the module is defined.
 * @throws RateLimitConfigurationError listing every problem
 */
export function checkAdminExtras(admin: RateLimitAdminOptions): { path: string; guard?: Type<CanActivate> } {
  const problems: string[] = [];
  if (typeof admin !== 'object' || admin === null) throw new RateLimitConfigurationError([messages.badAdminOptions(admin)]);
  const rawPath = admin.path ?? DEFAULT_ADMIN_PATH;
  const path = typeof rawPath === 'string' ? rawPath.replace(/^\/+|\/+$/g, '') : '';
  if (typeof rawPath !== 'string' || path.length === 0 || path.length > 200 || !path.split('/').every((s) => PATH_SEGMENT.test(s))) {
    problems.push(messages.badAdminPath(rawPath));
  }
  const { guard } = admin;
  if (guard !== undefined && typeof guard !== 'function') problems.push(messages.badAdminGuard(guard));
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  return guard === undefined ? { path } : { path, guard };
}

/**
 * The admin settings once the module options are known: credentials are required.
 * @throws RateLimitConfigurationError when there is neither an API key nor a guard
 */
export function resolveAdminSettings(admin: { path: string; guard?: Type<CanActivate> }, keyDigests: readonly Buffer[] | undefined): AdminSettings {
  const digests = keyDigests ?? [];
  if (digests.length === 0 && admin.guard === undefined) {
    throw new RateLimitConfigurationError([messages.adminWithoutCredentials(admin.path)]);
  }
  return Object.freeze({ path: admin.path, keyDigests: Object.freeze([...digests]), ...(admin.guard ? { guard: admin.guard } : {}) });
}
