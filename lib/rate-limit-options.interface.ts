import type { ExecutionContext } from '@nestjs/common';
import type { Clock } from './core/clock.js';
import type { TrustProxyOptions } from './core/ip/trust-proxy.js';
import type { ClientKeyResolver, RateLimitRule } from './rate-limit-rule.interface.js';
import type { MemoryRateLimitStoreOptions } from './storage/memory-rate-limit.store.js';
import type { RateLimitStore } from './storage/rate-limit-store.interface.js';

/** Options of `RateLimitModule.forRoot` / the `useFactory` of `forRootAsync`. */
export interface RateLimitModuleOptions {
  /**
   * Rules applied to every route (unless skipped or overridden by `@Throttle`).
   * Pass `[]` to limit only the routes that carry `@Throttle`.
   * @default [{ name: 'default', limit: 100, windowMs: 60_000, algorithm: 'sliding-window' }]
   */
  rules?: RateLimitRule | RateLimitRule[];
  /** Where state lives. @default a `MemoryRateLimitStore` */
  store?: RateLimitStore;
  /** Options of the default memory store (ignored when `store` is given). */
  memoryStore?: MemoryRateLimitStoreOptions;
  /** Identity for every rule: user id, API key... Falls back to the client address when it returns nothing. */
  keyResolver?: ClientKeyResolver;
  /**
   * Proxies whose forwarded headers are believed. Without it only the socket peer address is used,
   * whatever `X-Forwarded-For`, `Forwarded` or `X-Real-IP` say.
   * @default false
   */
  trustProxy?: TrustProxyOptions | false;
  /**
   * IPv6 clients are counted per network of this prefix length, since one host usually holds a
   * whole /64. 128 counts each address.
   * @default 64
   */
  ipv6PrefixLength?: number;
  /**
   * Send the IETF `RateLimit-Policy` and `RateLimit` headers.
   * @default true
   */
  standardHeaders?: boolean;
  /**
   * Also send `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until
   * reset) for the rule with the fewest requests left.
   * @default false
   */
  legacyHeaders?: boolean;
  /** Return true to let a request through every rule without counting it. */
  skipIf?: (context: ExecutionContext) => boolean | Promise<boolean>;
  /** Time source. @default the system clock */
  clock?: Clock;
  /** The `detail` of the 429 body; a function receives the violated rule and seconds to wait. */
  errorMessage?: string | ((violation: RateLimitViolation) => string);
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
}

/** Describes a denied request (for error messages and hooks). */
export interface RateLimitViolation {
  readonly rule: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly retryAfterSeconds: number;
  /** Present when the client is inside a block started by the rule's `blockDurationMs`. */
  readonly blockedUntilMs?: number;
}
