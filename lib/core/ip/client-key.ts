import ipaddr from 'ipaddr.js';
import type { IPv6 } from 'ipaddr.js';
import { formatAddress, parseAddress } from './client-address.js';

/**
 * The client key of requests whose address cannot be known (and that have no identity of their
 * own). Every such client shares it: it is counted like any key, but never escalated to a block or
 * a ban, which would lock out all of them at once.
 */
export const UNKNOWN_CLIENT = 'unknown';

/**
 * A problem sentence when `n` is not a usable IPv6 prefix length (an integer from 1 to 128),
 * otherwise null. `optionName` is used in the sentence.
 */
export function validateIpv6PrefixLength(n: unknown, optionName = 'ipv6PrefixLength'): string | null {
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 128) return null;
  const got = typeof n === 'string' ? `'${n}'` : typeof n === 'number' ? String(n) : typeof n;
  return `${optionName} must be an integer from 1 to 128 (64 groups one customer network, 128 keys every ` + `IPv6 address separately); got ${got}.`;
}

/**
 * The rate-limit key for a client address. IPv4 addresses are used as they are. IPv6 addresses are
 * masked to `ipv6PrefixLength` bits and written as a network, e.g. `2001:db8:1:2::/64`, so a client
 * cannot escape its limit by rotating through the addresses of its own network; a prefix of 128
 * gives the plain address.
 *
 * @throws TypeError when `address` is not an IP address, RangeError for a prefix outside 1..128
 *   (check it at startup with `validateIpv6PrefixLength`).
 */
export function clientKeyForAddress(address: string, ipv6PrefixLength: number): string {
  const parsed = parseAddress(address);
  if (parsed === null) throw new TypeError(`Not an IP address: ${JSON.stringify(String(address).slice(0, 100))}`);
  if (parsed.kind() === 'ipv4') return formatAddress(parsed);
  const problem = validateIpv6PrefixLength(ipv6PrefixLength);
  if (problem !== null) throw new RangeError(problem);
  if (ipv6PrefixLength === 128) return formatAddress(parsed);

  const parts = (parsed as IPv6).parts.slice();
  for (let i = 0; i < parts.length; i++) {
    const bitsLeft = ipv6PrefixLength - i * 16;
    if (bitsLeft >= 16) continue;
    parts[i] = bitsLeft <= 0 ? 0 : parts[i]! & ((0xffff << (16 - bitsLeft)) & 0xffff);
  }
  return `${new ipaddr.IPv6(parts).toRFC5952String()}/${ipv6PrefixLength}`;
}
