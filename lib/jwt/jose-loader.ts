import { createRequire } from 'node:module';

/** The jose package (an optional peer of nest-rampart, needed by `nest-rampart/jwt` only). */
export type Jose = typeof import('jose');

/**
 * Loads jose when `jwtIdentity` is called, at startup: synchronously (Node 20.19 and later load its
 * ES module through `require`), so that an app without it stops there with the fix, not at its
 * first request with a token. Throws when it is not installed.
 */
export function loadJose(): Jose {
  return createRequire(import.meta.url)('jose') as Jose;
}
