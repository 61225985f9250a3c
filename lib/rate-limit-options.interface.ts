import type { ExecutionContext } from '@nestjs/common';
import type { RateLimitAdminOptions } from './admin/admin-options.interface.js';
import type { ConcurrencyLimitMetadata } from './engine/concurrency-pool.js';
import type { RampartOptions } from './engine/rampart-options.interface.js';
import type { WsConnectionLimits } from './ws/ws-connection-options.js';
import type { RateLimitRoute } from './routes/route-options.js';
import type { ConfigFileOptions } from './config-file/config-file-options.js';
import type { DenialResponse, IdentityErrorResponse } from './responses/custom-response.interface.js';

export type { RateLimitViolation } from './engine/rampart-options.interface.js';

/** Options of `RateLimitModule.forRoot` / the `useFactory` of `forRootAsync`. */
export interface RateLimitModuleOptions extends RampartOptions<ExecutionContext> {
  /**
   * The admin API's key, sent as `Authorization: Bearer <key>`; at least 16 characters. Several
   * keys are all accepted, so that a key can be rotated without downtime. Needed when `admin` is
   * mounted without its own `guard`.
   */
  adminApiKey?: string | string[];
  /** Limits on each client's WebSocket connections (open at once, new ones per window) and messages. */
  websockets?: WsConnectionLimits;
  /**
   * Rules for HTTP requests by path (a regular expression matched from the start of the path) and
   * method: the first entry that matches a request replaces its handler's rules (module rules and
   * `@Throttle`); `@SkipThrottle()` routes are not counted by any. See `RateLimitRoute`.
   * @default [] (every route counts by its handler's rules)
   */
  routes?: RateLimitRoute<ExecutionContext>[];
  /**
   * HTTP paths nothing counts or checks, not even bans: each path and everything under it
   * (`/docs` covers `/docs/index.html`). `DEFAULT_EXCLUDED_PATHS` holds the usual ones.
   * @default []
   */
  excludePaths?: string[];
  /**
   * `false`: the guard counts and refuses nothing, every request goes through (HTTP, WebSocket
   * messages, GraphQL resolvers, RPC handlers); WebSocket handshake limits, `@ConcurrencyLimit` and
   * GraphQL subscription limits still apply. For switching the limits off
   * without a deploy: `RAMPART_ENABLED` / `RATE_LIMIT_ENABLED`, or `global.enabled` in a configuration
   * file, which a reload applies.
   * @default true
   */
  enabled?: boolean;
  /**
   * A configuration file (YAML or JSON) whose sections replace the options of the same name: rules,
   * routes, groups, excluded paths, escalation, storage and global settings. Watched and reloaded
   * (see `ConfigFileOptions`). `RAMPART_CONFIG` names the file instead.
   */
  configFile?: string | ConfigFileOptions;
  /**
   * Where overrides are read from: `RAMPART_*` and seed names such as `RATE_LIMIT_PER_MINUTE` (see
   * the README's table). `false` reads none; an object is read instead of `process.env`.
   * @default process.env
   */
  env?: boolean | Readonly<Record<string, string | undefined>>;
  /**
   * The app's own response to a refused HTTP request (limited, blocked, banned, deny-listed, store
   * unavailable): `(denial, context) => ({ status, body, headers })`, or undefined for the default
   * problem details. The rate-limit headers and `Retry-After` are sent whatever it answers. A status
   * outside 400-599, an invalid body or header, or a callback that throws gets the default response
   * (logged once). Other protocols answer with their own errors.
   * @example denialResponse: (denial) => ({ body: { error: 'slow_down', retryIn: denial.retryAfterSeconds } })
   */
  denialResponse?: DenialResponse;
  /**
   * The app's own response to a request whose identity could not be told (a resolver threw an
   * `IdentityError`: an invalid token), as `denialResponse` does; the default is a 401 with problem
   * details and the error's `WWW-Authenticate` challenge (which a custom header may replace).
   */
  identityErrorResponse?: IdentityErrorResponse;
}

/** Settings that decide which providers exist: outside the async factory. */
export interface RateLimitModuleExtras {
  /** Make the module's providers available everywhere. @default true */
  isGlobal?: boolean;
  /**
   * Register `RateLimitGuard` for every route (APP_GUARD). Set false to bind it yourself with
   * `@UseGuards(RateLimitGuard)`.
   * @default true
   */
  registerGlobalGuard?: boolean;
  /**
   * Mounts the admin REST API (bans, violations, allow/deny lists) at `/<path>` (default
   * `/rate-limit`), behind `adminApiKey` or the app's own `guard`. Not mounted when absent.
   */
  admin?: RateLimitAdminOptions;
  /**
   * A concurrency limit on every HTTP route without a `@ConcurrencyLimit` of its own, as the
   * decorator's (`{ limit, name, scope, onStoreError }`): one pool per route, or one for the whole
   * API with `scope`. Routes under `@SkipThrottle()` and the admin API are left out. Every HTTP
   * request then runs the concurrency interceptor; without this option, only decorated routes do.
   * @default undefined (only `@ConcurrencyLimit` routes are limited)
   * @example { limit: 100, scope: 'api' } // at most 100 requests of a client in flight, over the whole API
   */
  concurrency?: ConcurrencyLimitMetadata;
}
