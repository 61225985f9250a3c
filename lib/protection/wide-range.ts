import * as messages from '../errors/messages.js';
import { canonicalCidr } from '../storage/store-input.js';

/**
 * The widest ranges a ban or an allow/deny-list entry may cover without `force`: /8 for IPv4 (16.7
 * million addresses) and /32 for IPv6 (a registry's allocation to a large network). Wider ones
 * (`0.0.0.0/0`, `::/0`) refuse or exempt a large part of the Internet: one typo away from every
 * client, so they are made only when the caller says so.
 */
export const MIN_IPV4_PREFIX = 8;
export const MIN_IPV6_PREFIX = 32;

/**
 * Why `cidr` may not be banned or listed without `force`, or null when it may (or when it is no
 * range at all: that is for the CIDR checks to say).
 */
export function wideRangeProblem(cidr: unknown, path = 'cidr'): string | null {
  let canonical: string;
  try {
    canonical = canonicalCidr(cidr, path);
  } catch {
    return null;
  }
  const slash = canonical.lastIndexOf('/');
  const min = canonical.includes(':') ? MIN_IPV6_PREFIX : MIN_IPV4_PREFIX;
  return Number(canonical.slice(slash + 1)) < min ? messages.wideRange(path, canonical, min) : null;
}

/**
 * Refuses a range wider than /8 (IPv4) or /32 (IPv6) unless `force`.
 * @throws RangeError saying so
 */
export function assertNarrowRange(cidr: string, force: boolean | undefined, path = 'cidr'): void {
  if (force === true) return;
  const problem = wideRangeProblem(cidr, path);
  if (problem !== null) throw new RangeError(problem);
}
