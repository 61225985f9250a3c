import ipaddr from 'ipaddr.js';
import type { IPv4, IPv6 } from 'ipaddr.js';

/** An address parsed by `parseAddress`: IPv4-mapped IPv6 addresses are already turned into IPv4. */
export type ParsedAddress = IPv4 | IPv6;

/** Raw address text longer than this is rejected without parsing. */
export const MAX_ADDRESS_LENGTH = 100;
/** At most this many forwarded hops are examined per request. */
export const MAX_FORWARDED_HOPS = 32;
/** At most this many characters (the rightmost ones) of a forwarded header are examined. */
export const MAX_FORWARDED_HEADER_LENGTH = 8192;

const PORT = /^\d{1,5}$/;
const ZONE = /^[0-9A-Za-z._~-]+$/;
/** `::a.b.c.d`, the deprecated IPv4-compatible form, which ipaddr.js would read as IPv4-mapped. */
const IPV4_COMPATIBLE = /^::[0-9.]+$/;

function isPort(text: string): boolean {
  return PORT.test(text) && Number(text) <= 65535;
}

/**
 * Parses a bare address: dotted-quad IPv4 (no octal, hex or shortened forms) or IPv6, without
 * brackets, port or zone. IPv4-mapped IPv6 comes back as IPv4. Null when not an address.
 */
export function parseBareAddress(text: string): ParsedAddress | null {
  if (text.length === 0 || text.length > MAX_ADDRESS_LENGTH) return null;
  if (text.includes(':')) {
    if (text.includes('.')) {
      // Embedded IPv4 tail: insist on plain decimal octets and refuse the deprecated `::a.b.c.d`.
      if (IPV4_COMPATIBLE.test(text)) return null;
      if (!ipaddr.IPv4.isValidFourPartDecimal(text.slice(text.lastIndexOf(':') + 1))) return null;
    }
    if (text.includes('%') || !ipaddr.IPv6.isValid(text)) return null;
    const v6 = ipaddr.IPv6.parse(text);
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  return ipaddr.IPv4.parse(text);
}

/**
 * Parses address text as it appears in sockets and forwarded headers: surrounding whitespace,
 * an IPv6 zone (`fe80::1%eth0`), brackets and a port (`[2001:db8::1]:443`, `192.0.2.1:5678`)
 * are accepted and dropped. Null when not an address.
 */
export function parseAddress(raw: string): ParsedAddress | null {
  if (typeof raw !== 'string' || raw.length > MAX_ADDRESS_LENGTH) return null;
  let text = raw.trim();
  if (text.length === 0) return null;

  if (text.charCodeAt(0) === 0x5b /* [ */) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    const rest = text.slice(close + 1);
    if (rest.length > 0 && !(rest.charCodeAt(0) === 0x3a /* : */ && isPort(rest.slice(1)))) return null;
    text = text.slice(1, close);
    if (!text.includes(':')) return null; // brackets are for IPv6 only
  } else {
    const colon = text.indexOf(':');
    if (colon >= 0 && colon === text.lastIndexOf(':')) {
      // A single colon: IPv4 with a port.
      if (!isPort(text.slice(colon + 1))) return null;
      text = text.slice(0, colon);
      if (text.includes('%')) return null;
    }
  }

  const percent = text.indexOf('%');
  if (percent >= 0) {
    if (!text.includes(':') || !ZONE.test(text.slice(percent + 1))) return null;
    text = text.slice(0, percent);
  }
  return parseBareAddress(text);
}

/** Canonical text: dotted quad for IPv4, RFC 5952 compact lower-case form for IPv6. */
export function formatAddress(address: ParsedAddress): string {
  return address.kind() === 'ipv4' ? address.toString() : (address as IPv6).toRFC5952String();
}

/**
 * The canonical text of an address (see `formatAddress`), or null for anything that is not one.
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`) becomes IPv4; zones, brackets and ports are dropped.
 */
export function normalizeAddress(raw: string): string | null {
  const parsed = parseAddress(raw);
  return parsed === null ? null : formatAddress(parsed);
}

/** Ranges (as ipaddr.js names them) of IPv4 addresses that NAT64 and 6to4 never carry. */
const LOCAL_IPV4_RANGES = new Set(['private', 'loopback', 'linkLocal', 'carrierGradeNat', 'unspecified', 'multicast', 'broadcast']);

/**
 * The IPv4 address a NAT64 (`64:ff9b::/96`, RFC 6052) or 6to4 (`2002::/16`, RFC 3056) address
 * carries; null for any other, and for a carried address of a local or special network (private,
 * loopback, link-local, carrier-grade NAT, unspecified, multicast, broadcast), which both RFCs
 * exclude there: `2002:7f00:1::` must not pass for `127.0.0.1`, nor match the lists of loopback or
 * private networks.
 */
export function embeddedIPv4(address: ParsedAddress): IPv4 | null {
  if (address.kind() !== 'ipv6') return null;
  const p = (address as IPv6).parts;
  let high: number;
  let low: number;
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0) [high, low] = [p[6]!, p[7]!];
  else if (p[0] === 0x2002) [high, low] = [p[1]!, p[2]!];
  else return null;
  const v4 = new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  return LOCAL_IPV4_RANGES.has(v4.range()) ? null : v4;
}

/**
 * The address a client is counted, listed and banned by, from a canonical address: itself, or the
 * IPv4 address a NAT64 or 6to4 address carries. Every client of a NAT64 gateway would otherwise
 * share one /64 key, and a 6to4 host would have 65,536 /64 keys; an IPv4 ban or list entry then
 * applies to them as well.
 */
export function clientAddressOf(canonical: string): string {
  // Canonical text of either prefix starts so; anything else is returned without parsing.
  if (!canonical.startsWith('64:ff9b::') && !canonical.startsWith('2002:')) return canonical;
  const parsed = parseBareAddress(canonical);
  const v4 = parsed === null ? null : embeddedIPv4(parsed);
  return v4 === null ? canonical : v4.toString();
}
