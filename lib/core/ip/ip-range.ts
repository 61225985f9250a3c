import { parseBareAddress, type ParsedAddress } from './client-address.js';

/** An address range: a network address and its prefix length, matched with ipaddr.js's `match`. */
export type IpRange = [ParsedAddress, number];

/** Why a text is not a range. */
export type IpRangeProblem = 'address' | 'prefix-syntax' | 'prefix-range' | 'mapped-prefix';

export type ParsedRange = { readonly range: IpRange; readonly address: ParsedAddress } | { readonly problem: IpRangeProblem; readonly max: number };

const PREFIX = /^\d{1,3}$/;

/**
 * Parses `address` or `address/prefix` (the one parser of CIDR text: trusted proxies, bans and
 * allow/deny lists all use it). The prefix may be up to 32 for an address written as IPv4 and up to
 * 128 for one written as IPv6. An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) becomes the IPv4
 * range, since client addresses arrive with IPv4-mapped IPv6 already turned into IPv4; its prefix
 * must then be at least 96.
 */
export function parseIpRange(text: string): ParsedRange {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseBareAddress(addressText);
  const max = addressText.includes(':') ? 128 : 32;
  if (address === null) return { problem: 'address', max };
  let bits = max;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!PREFIX.test(prefixText)) return { problem: 'prefix-syntax', max };
    bits = Number(prefixText);
    if (bits > max) return { problem: 'prefix-range', max };
  }
  if (max === 128 && address.kind() === 'ipv4') {
    if (bits < 96) return { problem: 'mapped-prefix', max };
    bits -= 96;
  }
  return { range: [address, bits], address };
}

/** Whether a parsed client address lies in `range`. */
export function inIpRange(address: ParsedAddress, range: IpRange): boolean {
  return address.kind() === range[0].kind() && address.match(range);
}
