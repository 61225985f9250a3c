import ipaddr from 'ipaddr.js';
import type { IPv4, IPv6 } from 'ipaddr.js';
import type { CompiledTrust } from './trust-proxy.js';

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

const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

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

type HeaderValue = string | string[] | undefined;

/** Joins repeated header instances in order; undefined when absent or blank. */
function headerText(value: HeaderValue): string | undefined {
  const text = Array.isArray(value) ? value.join(',') : value;
  if (typeof text !== 'string' || text.trim().length === 0) return undefined;
  return text;
}

/**
 * Splits a comma-separated header into its rightmost `max` elements, rightmost first. Only the
 * last MAX_FORWARDED_HEADER_LENGTH characters are looked at; an element cut by that limit comes
 * back as null. With `quoteAware`, commas inside quoted strings do not split.
 */
function rightmostElements(text: string, max: number, quoteAware: boolean): Array<string | null> {
  let window = text;
  let truncated = false;
  if (window.length > MAX_FORWARDED_HEADER_LENGTH) {
    window = window.slice(window.length - MAX_FORWARDED_HEADER_LENGTH);
    truncated = true;
  }
  const out: Array<string | null> = [];
  let end = window.length;
  let inQuote = false;
  for (let i = window.length - 1; i >= 0 && out.length < max; i--) {
    const c = window.charCodeAt(i);
    if (c === COMMA && !inQuote) {
      out.push(window.slice(i + 1, end));
      end = i;
    } else if (quoteAware && c === QUOTE) {
      if (!inQuote) {
        inQuote = true;
      } else {
        let slashes = 0;
        while (i - 1 - slashes >= 0 && window.charCodeAt(i - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) inQuote = false;
      }
    }
  }
  if (out.length < max) out.push(truncated ? null : window.slice(0, end));
  return out;
}

/** Splits on `;` outside quoted strings. */
function splitParameters(element: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < element.length; i++) {
    const c = element.charCodeAt(i);
    if (inQuote) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inQuote = false;
    } else if (c === QUOTE) {
      inQuote = true;
    } else if (c === 0x3b /* ; */) {
      out.push(element.slice(start, i));
      start = i + 1;
    }
  }
  out.push(element.slice(start));
  return out;
}

/** Undoes an RFC 7230 quoted-string; null when malformed. */
function unquote(value: string): string | null {
  if (value.length < 2 || value.charCodeAt(value.length - 1) !== QUOTE) return null;
  let out = '';
  for (let i = 1; i < value.length - 1; i++) {
    const c = value.charCodeAt(i);
    if (c === BACKSLASH) {
      i++;
      if (i >= value.length - 1) return null;
      out += value[i];
    } else if (c === QUOTE) {
      return null;
    } else {
      out += value[i];
    }
  }
  return out;
}

/**
 * The `for=` address of one RFC 7239 element. Null when the element is malformed, has no or
 * several `for` parameters, or names an obfuscated node (`_hidden`, `unknown`).
 */
function forwardedFor(element: string): ParsedAddress | null {
  let found: string | null = null;
  for (const pair of splitParameters(element)) {
    const trimmed = pair.trim();
    if (trimmed.length === 0) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) return null;
    if (trimmed.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    if (found !== null) return null;
    found = trimmed.slice(eq + 1).trim();
  }
  if (found === null) return null;
  const value = found.charCodeAt(0) === QUOTE ? unquote(found) : found;
  return value === null ? null : parseAddress(value);
}

/**
 * The address of the client that sent the request.
 *
 * - `trust` null: the socket peer, whatever the headers say.
 * - Trusted proxies: starting at the socket peer and moving left through the header's chain, each
 *   trusted proxy is passed over; the first untrusted address is the client (the leftmost one
 *   when every hop is trusted). A hop that is not a valid address stops the walk at the last
 *   valid address reached.
 * - Hop count: the address `hops` steps from the socket, or the leftmost if the chain is shorter.
 * - `x-real-ip`: the header's single address, believed only when the peer is trusted.
 *
 * At most MAX_FORWARDED_HOPS hops and the last MAX_FORWARDED_HEADER_LENGTH characters of the
 * header are examined. Returns the canonical text (see `formatAddress`), or null when the peer
 * itself is missing or not an address.
 */
export function resolveClientAddress(
  peer: string | undefined,
  headers: Record<string, string | string[] | undefined>,
  trust: CompiledTrust | null,
): string | null {
  const peerAddress = peer === undefined ? null : parseAddress(peer);
  if (peerAddress === null) return null;
  if (trust === null) return formatAddress(peerAddress);

  const text = headerText(headers[trust.header]);
  if (text === undefined) return formatAddress(peerAddress);

  if (trust.header === 'x-real-ip') {
    const peerTrusted = trust.hops !== null || trust.isTrustedProxy(peerAddress);
    const real = peerTrusted ? parseAddress(text) : null;
    return formatAddress(real ?? peerAddress);
  }

  const quoteAware = trust.header === 'forwarded';
  const limit = trust.hops ?? MAX_FORWARDED_HOPS;
  const elements = rightmostElements(text, limit, quoteAware);
  let client = peerAddress;
  for (let step = 0; step < elements.length; step++) {
    if (trust.hops === null && !trust.isTrustedProxy(client)) break;
    const element = elements[step];
    if (element === null) break;
    const next = quoteAware ? forwardedFor(element) : parseAddress(element);
    if (next === null) break;
    client = next;
  }
  return formatAddress(client);
}
