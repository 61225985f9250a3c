import type { ExecutionContext } from '@nestjs/common';
import { byClientAddress } from '../engine/rule-identity.js';
import type { RateLimitRule } from '../engine/rule.interface.js';

const DAY_MS = 86_400_000;

/** Options of `loginProtection`. Durations in milliseconds. */
export interface LoginProtectionOptions<C = ExecutionContext> {
  /**
   * The user name a login attempt names: the field of the request body (HTTP), or a function of the
   * request. Compared without case and surrounding spaces; an attempt without one counts by its
   * address alone.
   * @default 'username'
   */
  username?: string | ((context: C) => unknown);
  /**
   * Who consecutive failures are counted per: the user name tried from one address (as
   * rate-limiter-flexible's recipe does: nobody elsewhere can lock the user out), or the user name
   * from anywhere (a distributed guess of one password is stopped too, and so is its owner).
   * @default 'username-and-address'
   */
  consecutiveBy?: 'username-and-address' | 'username';
  /** Consecutive failures allowed before the user name is blocked. @default 10 */
  maxConsecutiveFailures?: number;
  /** How long the user name is blocked once it has failed too often. @default 1 hour */
  consecutiveBlockMs?: number;
  /**
   * How long a run of failures is remembered without a success (a fixed window). A block ends with
   * its window when it is no longer than `consecutiveBlockMs`: a user name blocked once gets its full
   * run of attempts again afterwards, as rate-limiter-flexible's recipe does (its block replaces the
   * count). A longer window keeps the count at the limit after the block, so that the next failure
   * blocks again at once, until the window ends.
   * @default consecutiveBlockMs
   */
  consecutiveWindowMs?: number;
  /** Failures allowed per address per day, whatever user names they try. @default 100 */
  maxFailuresPerAddressPerDay?: number;
  /** How long an address is blocked once it has failed too often. @default 1 day */
  addressBlockMs?: number;
  /** What the two rules' names start with: `<prefix>-consecutive` and `<prefix>-address-daily`. @default 'login' */
  name?: string;
}

/** The user name of a login attempt, as a key: trimmed, lower case; undefined without one. */
function userKey<C>(username: LoginProtectionOptions<C>['username'], context: C): string | undefined {
  const value =
    typeof username === 'function'
      ? username(context)
      : (context as ExecutionContext).switchToHttp().getRequest<{ body?: Record<string, unknown> }>().body?.[username ?? 'username'];
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  return text === undefined || text.length === 0 ? undefined : text;
}

/**
 * Brute-force protection of a login route, after rate-limiter-flexible's recipe ("Login endpoint
 * protection"): two rules that count failed attempts only (`countIf: 'failed'`, an HTTP status of
 * 400 or more):
 * - `<name>-consecutive`: consecutive failures per user name (from the client's address, see
 *   `consecutiveBy`); a success resets the count (`consecutive`). Past `maxConsecutiveFailures`, the
 *   user name is blocked for `consecutiveBlockMs`.
 * - `<name>-address-daily`: failures per address per day, whatever the user names, and whatever
 *   identity the module's `keyResolver` gives (an API key changed at each attempt escapes nothing). Past
 *   `maxFailuresPerAddressPerDay`, the address is blocked for `addressBlockMs`.
 * Each attempt holds a unit of both while it runs: concurrent attempts can never go past a limit.
 *
 * @example
 * @Throttle(loginProtection({ maxConsecutiveFailures: 5 }))
 * @UseGuards(LocalAuthGuard)
 * @Post('login') login() {}
 */
export function loginProtection<C = ExecutionContext>(options: LoginProtectionOptions<C> = {}): RateLimitRule<C>[] {
  const { username, consecutiveBy = 'username-and-address', name = 'login', consecutiveBlockMs = 3_600_000 } = options;
  return [
    {
      name: `${name}-consecutive`,
      limit: options.maxConsecutiveFailures ?? 10,
      windowMs: options.consecutiveWindowMs ?? consecutiveBlockMs,
      algorithm: 'fixed-window',
      blockDurationMs: consecutiveBlockMs,
      countIf: 'failed',
      consecutive: true,
      // Blocks come from the rule itself; a failed login is not an offence to escalate to a ban.
      escalation: false,
      keyResolver: (context, address) => {
        const user = userKey(username, context);
        if (user === undefined) return undefined;
        return consecutiveBy === 'username' ? `user:${user}` : `user:${user}@${address ?? 'unknown'}`;
      },
    },
    {
      name: `${name}-address-daily`,
      limit: options.maxFailuresPerAddressPerDay ?? 100,
      windowMs: DAY_MS,
      algorithm: 'fixed-window',
      blockDurationMs: options.addressBlockMs ?? DAY_MS,
      countIf: 'failed',
      escalation: false,
      // The address, whatever identity the module's keyResolver gives (an API key the client may change).
      keyResolver: byClientAddress,
    },
  ];
}
