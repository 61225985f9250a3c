import type { CanActivate, Type } from '@nestjs/common';

/**
 * Mounts the admin REST API (bans, violations, allow/deny lists). Decides which controllers exist,
 * so it is given to `forRoot` / `forRootAsync` directly, outside the async factory; the API key
 * itself (`adminApiKey`) may come from the factory.
 *
 * Without it no admin route exists. With it, every admin request needs credentials: a Bearer API
 * key, or whatever `guard` decides. There is no anonymous access.
 *
 * @example
 * RateLimitModule.forRootAsync({
 *   admin: { path: 'ops/rate-limit' },
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ adminApiKey: config.getOrThrow('RATE_LIMIT_ADMIN_KEY') }),
 * })
 */
export interface RateLimitAdminOptions {
  /**
   * Route prefix of the admin API, without leading or trailing slash.
   * @default 'rate-limit'
   */
  path?: string;
  /**
   * The app's own guard (resolved through dependency injection), deciding admin access instead of
   * the API key: e.g. a JWT guard that checks an operator role. The operator recorded on bans is
   * `request.user.id` when the guard sets it, otherwise `admin`.
   */
  guard?: Type<CanActivate>;
}

/**
 * Options of `RateLimitAdminModule.forRoot` / the `useFactory` of `forRootAsync` (besides `path` and
 * `guard`, which decide which routes exist and so are given outside the factory).
 */
export interface RateLimitAdminModuleOptions {
  /**
   * API keys of the admin API, sent as `Authorization: Bearer <key>`; at least 16 characters each.
   * Accepted together with RateLimitModule's `adminApiKey`.
   */
  apiKey?: string | string[];
}
