/**
 * The client address of a request: the socket peer, or what a trusted proxy forwarded.
 */
import type { CompiledTrust } from './trust-proxy.js';
import { MAX_FORWARDED_HEADER_LENGTH, MAX_FORWARDED_HOPS, formatAddress, parseAddress, type ParsedAddress } from './client-address.js';

const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

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
 *   when every hop is trusted).
 * - Hop count: the address `hops` steps from the socket, or the leftmost if the chain is shorter.
 *   A connection without a peer address (a proxy on a Unix socket or a pipe) is the first hop.
 * - `x-real-ip`: the header's single address, believed only when the peer is trusted.
 *
 * A trusted proxy that names no address for the next hop (`for=unknown`, an obfuscated `_hidden`,
 * an entry that is no address such as the deprecated `::a.b.c.d`, two `X-Real-IP` values) leaves
 * the client unknown: null, never the proxy's own address, which would let the client share the
 * proxy's key and its allow-list entry.
 *
 * At most MAX_FORWARDED_HOPS hops and the last MAX_FORWARDED_HEADER_LENGTH characters of the
 * header are examined (an entry cut by that limit names no address). Returns the canonical text
 * (see `formatAddress`), or null when the client address cannot be known: the peer is missing or
 * not an address (outside hop-count mode), or a trusted hop named none.
 */
export function resolveClientAddress(
  peer: string | undefined,
  headers: Record<string, string | string[] | undefined>,
  trust: CompiledTrust | null,
): string | null {
  const peerAddress = peer === undefined ? null : parseAddress(peer);
  if (trust === null) return peerAddress === null ? null : formatAddress(peerAddress);
  // Without a peer address only a hop count says the connection came from a proxy.
  if (peerAddress === null && (peer !== undefined || trust.hops === null)) return null;

  const text = headerText(headers[trust.header]);
  if (text === undefined) return peerAddress === null ? null : formatAddress(peerAddress);

  if (trust.header === 'x-real-ip') {
    if (peerAddress !== null && trust.hops === null && !trust.isTrustedProxy(peerAddress)) return formatAddress(peerAddress);
    // Two values (joined by a comma) are no address: a proxy that passed the client's own header along.
    const real = parseAddress(text);
    return real === null ? null : formatAddress(real);
  }

  const quoteAware = trust.header === 'forwarded';
  const limit = trust.hops ?? MAX_FORWARDED_HOPS;
  const elements = rightmostElements(text, limit, quoteAware);
  let client = peerAddress;
  for (let step = 0; step < elements.length; step++) {
    if (trust.hops === null && !trust.isTrustedProxy(client!)) break;
    const element = elements[step];
    if (element === null) return null;
    const next = quoteAware ? forwardedFor(element) : parseAddress(element);
    if (next === null) return null;
    client = next;
  }
  return client === null ? null : formatAddress(client);
}
