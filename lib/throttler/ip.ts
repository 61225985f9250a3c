import { isIP } from 'node:net';

/** IPv6 clients are grouped by this many leading bits unless `ipv6SubnetPrefix` says otherwise. */
export const DEFAULT_IPV6_SUBNET_PREFIX = 64;

/** The eight 16-bit groups of an address `isIP` accepted as IPv6, or null if it cannot be read. */
function groupsOf(address: string): number[] | null {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // Embedded dotted IPv4 tail: rewrite it as two hex groups.
    const bytes = tail.split('.').map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : NaN));
    if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) return null;
    text = `${text.slice(0, lastColon + 1)}${((bytes[0]! << 8) | bytes[1]!).toString(16)}:${((bytes[2]! << 8) | bytes[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tailGroups = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = halves.length === 2 ? 8 - head.length - tailGroups.length : 0;
  if (missing < 0 || head.length + missing + tailGroups.length !== 8) return null;
  const groups: number[] = [];
  for (const part of [...head, ...Array<string>(missing).fill('0'), ...tailGroups]) {
    if (!/^[0-9a-f]{1,4}$/.test(part)) return null;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

/** Keeps the first `prefix` bits of the 128-bit address. */
function mask(groups: readonly number[], prefix: number): number[] {
  return groups.map((group, i) => {
    const kept = Math.min(16, Math.max(0, prefix - i * 16));
    return kept === 16 ? group : kept === 0 ? 0 : group & ((0xffff << (16 - kept)) & 0xffff);
  });
}

/** RFC 5952 text: lowercase, no leading zeros, the first longest run of two or more zero groups as `::`. */
function format(groups: readonly number[]): string {
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < groups.length && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestAt = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLength).join(':')}`;
}

/**
 * The tracker of a client address: IPv4 as it is (without a zone), IPv4-mapped IPv6 as IPv4, the
 * IPv6 loopback as `::1`, and any other IPv6 address as its network of `ipv6SubnetPrefix` bits
 * (`2001:db8:1:2::/64`), so that a client cannot escape its limit by rotating through the
 * addresses of its own network. Anything that is not an address is returned unchanged.
 */
export function normalizeIp(ip: string, ipv6SubnetPrefix: number = DEFAULT_IPV6_SUBNET_PREFIX): string {
  if (typeof ip !== 'string' || ip.length === 0) return ip;
  const zoneAt = ip.indexOf('%');
  const address = zoneAt < 0 ? ip : ip.slice(0, zoneAt);
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return ip;
  const groups = groupsOf(address);
  if (groups === null) return ip;
  if (groups[7] === 1 && groups.slice(0, 7).every((g) => g === 0)) return '::1';
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  const prefix = Number.isFinite(ipv6SubnetPrefix) ? Math.min(128, Math.max(0, Math.trunc(ipv6SubnetPrefix))) : DEFAULT_IPV6_SUBNET_PREFIX;
  return `${format(mask(groups, prefix))}/${prefix}`;
}
