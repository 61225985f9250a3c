import type { ExecutionContext } from '@nestjs/common';
import type { RateLimitAdminOptions } from './admin/admin-options.interface.js';
import type { RampartOptions } from './engine/rampart-options.interface.js';
import type { WsConnectionLimits } from './ws/ws-connection-options.js';
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
  /** Limits on each client's WebSocket connections: open at once, and new ones per window. */
  websockets?: WsConnectionLimits;
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
}
