import type { CanActivate, ExecutionContext, Type } from '@nestjs/common';

/**
 * The request as `authorize` sees it: Express's or Fastify's, with what the app's authentication
 * set on it (`user` for Passport and most JWT guards).
 */
export interface AdminRequest {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each app's user has its own shape, as with getRequest<any>()
  readonly user?: any;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly [property: string]: unknown;
}

/**
 * Mounts the admin REST API (bans, violations, allow/deny lists). Decides which controllers exist,
 * so it is given to `forRoot` / `forRootAsync` directly, outside the async factory; the API key
 * itself (`adminApiKey`) may come from the factory.
 *
 * Without it no admin route exists. With it, every admin request needs credentials: a Bearer API
 * key, or the app's own access control (`guard` with `authorize` or `routeDecorators`, or
 * `authorize` alone). There is no anonymous access, and never both at once.
 *
 * @example
 * RateLimitModule.forRootAsync({
 *   admin: { path: 'ops/rate-limit' },
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ adminApiKey: config.getOrThrow('RATE_LIMIT_ADMIN_KEY') }),
 * })
 * // or the app's roles, with Nest's documented RolesGuard and Roles decorator:
 * RateLimitModule.forRoot({ admin: { guard: RolesGuard, routeDecorators: [Roles(['admin'])] } })
 */
export interface RateLimitAdminOptions {
  /**
   * Route prefix of the admin API, without leading or trailing slash.
   * @default 'rate-limit'
   */
  path?: string;
  /**
   * The app's own guard (resolved through dependency injection), deciding admin access instead of
   * the API key: e.g. a JWT guard, or Nest's RolesGuard. A guard's `true` alone does not admit a
   * request, since many guards answer true to routes they have no metadata for (RolesGuard does):
   * give `routeDecorators` for the guard to read, or `authorize`. Refused at startup otherwise.
   * The operator recorded on bans is `request.user.id` when set, otherwise `admin`.
   */
  guard?: Type<CanActivate>;
  /**
   * Says whether an admin request (after `guard`, when there is one) comes from an operator: only
   * `true` admits it (403 otherwise; an exception it throws is logged and answered 403, an
   * HttpException passes as it is). Without it, a request `guard` admitted also needs `request.user`.
   *
   * @example
   * authorize: (request) => request.user?.roles?.includes('admin') === true
   */
  authorize?: (request: AdminRequest, context: ExecutionContext) => boolean | Promise<boolean>;
  /**
   * Decorators applied to every admin route handler, for `guard` to read: e.g. `[Roles(['admin'])]`
   * for Nest's documented RolesGuard, which then requires that role on the admin API. Needs `guard`.
   */
  routeDecorators?: readonly MethodDecorator[];
  /**
   * Serves the admin dashboard, a web page over this API, at `GET /<path>/dashboard`: live
   * statistics, bans, violations, client lookup, allow- and deny-lists. The page and its files hold
   * no data and are served to anyone; every figure comes from the admin API with the key the
   * operator types in (kept in the tab's sessionStorage, sent as `Authorization: Bearer`). Served
   * under a strict Content-Security-Policy, from files in the package (no CDN).
   * @default false
   */
  dashboard?: boolean;
}

/**
 * Options of `RateLimitAdminModule.forRoot` / the `useFactory` of `forRootAsync` (besides `path`,
 * `guard`, `authorize` and `routeDecorators`, which decide which routes exist and how they are
 * guarded, and so are given outside the factory).
 */
export interface RateLimitAdminModuleOptions {
  /**
   * API keys of the admin API, sent as `Authorization: Bearer <key>`; at least 16 characters each,
   * 8 of them distinct, no whitespace. Accepted together with RateLimitModule's `adminApiKey`.
   */
  apiKey?: string | string[];
}
