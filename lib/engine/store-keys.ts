import { createHash } from 'node:crypto';
import { clientKeyForAddress, UNKNOWN_CLIENT } from '../core/ip/client-key.js';
import type { StoreRule } from '../core/rule-decision.js';

/** Longest client key: longer identities are keyed by a hash, so hostile identities cannot bloat the store. */
export const MAX_CLIENT_KEY_LENGTH = 128;
/** Addresses whose client key is remembered (the cache is emptied when full). */
const ADDRESS_CACHE_SIZE = 10_000;

/**
 * What the outage probe of a store that is down counts, as a request would (a write, so that a
 * store that answers reads but not writes stays down): a key no request is counted under in the
 * default format (store keys start with a rule name, which cannot be empty), under a limit it
 * never reaches.
 */
export const PROBE_KEY = ':rampart-probe';
export const PROBE_RULE: StoreRule = Object.freeze({ name: 'probe', algorithm: 'fixed-window', limit: 1_000_000_000, windowMs: 1_000, blockDurationMs: 0 });

/**
 * What the key of an identity (a key resolver's answer, a custom tracker) starts with when the
 * identity could otherwise be read as a key of another kind: text shaped like an address key, the
 * no-address key, or text starting with this prefix, `sha256:` or `shadow:`. It is also how an operator
 * names an identity explicitly: `id:<identity>` (see `namedClientKey`).
 */
export const IDENTITY_KEY_PREFIX = 'id:';
/** What the key of an identity too long to keep starts with; reserved, no other key starts with it. */
export const HASHED_KEY_PREFIX = 'sha256:';
/**
 * What the key under which shadow rules record a client's violations and escalations starts with:
 * `shadow:<client key>`. Reserved, so that the blocks and bans shadow mode computes are never
 * those of any client, and reported as what would have happened.
 */
export const SHADOW_KEY_PREFIX = 'shadow:';

/** The key shadow rules record a client's violations and escalations under. */
export function shadowKey(clientKey: string): string {
  return SHADOW_KEY_PREFIX + clientKey;
}

const NOT_SHADOW = Object.freeze({});
const SHADOW = Object.freeze({ shadow: true as const });

/** `{ shadow: true }` for an event about a shadow key or a target of one, so that listeners can tell what shadow mode computed. */
export function shadowMark(target: string | { readonly type: string; readonly key?: string }): { readonly shadow?: true } {
  const key = typeof target === 'string' ? target : target.type === 'key' ? target.key : undefined;
  return key !== undefined && key.startsWith(SHADOW_KEY_PREFIX) ? SHADOW : NOT_SHADOW;
}

/** Whether a client key is a shadow key, and the key of which client. */
export function shadowedClientKey(key: string): string | undefined {
  return key.startsWith(SHADOW_KEY_PREFIX) ? key.slice(SHADOW_KEY_PREFIX.length) : undefined;
}

/**
 * The key of an identity: the identity itself when no key of another kind can look like it;
 * `id:<identity>` when it could be read as an address key, the no-address key or a reserved form;
 * `sha256:<base64url>` when that would be longer than 128 characters. Keys of addresses and keys of
 * identities never collide, so an identity cannot be counted, blocked or banned as an address.
 */
export function identityKey(identity: string): string {
  if (!mayBeReadAsOtherKind(identity)) return identity.length <= MAX_CLIENT_KEY_LENGTH ? identity : hashedKey(identity);
  return identity.length + IDENTITY_KEY_PREFIX.length <= MAX_CLIENT_KEY_LENGTH ? IDENTITY_KEY_PREFIX + identity : hashedKey(identity);
}

/**
 * The client key an operator names: `id:<identity>` is the key of that identity (`id:user-42` is
 * `user-42`, `id:198.51.100.7` stays as it is); any other text is a client key as stored (an
 * address key such as `198.51.100.7`, an identity such as `user-42`, or a `sha256:` key).
 */
export function namedClientKey(text: string): string {
  return text.startsWith(IDENTITY_KEY_PREFIX) && text.length > IDENTITY_KEY_PREFIX.length ? identityKey(text.slice(IDENTITY_KEY_PREFIX.length)) : text;
}

function hashedKey(identity: string): string {
  return HASHED_KEY_PREFIX + createHash('sha256').update(identity).digest('base64url');
}

/** Whether an identity, kept as it is, could be taken for a key of another kind. */
function mayBeReadAsOtherKind(identity: string): boolean {
  return (
    identity === UNKNOWN_CLIENT ||
    identity.startsWith(IDENTITY_KEY_PREFIX) ||
    identity.startsWith(HASHED_KEY_PREFIX) ||
    identity.startsWith(SHADOW_KEY_PREFIX) ||
    looksLikeAddressKey(identity)
  );
}

/** Whether a client key is an address's (an IPv4 address, or an IPv6 address or network), not an identity's. */
export function isAddressKey(key: string): boolean {
  return looksLikeAddressKey(key);
}

/**
 * Whether text has the shape of an address key: hex digits, `.`, `:` and `/` only, with a `.` or a
 * `:` (every IPv4 or IPv6 address or network has one). Broader than the addresses themselves, so
 * that any form the address keys take stays out of the identities' keys.
 */
function looksLikeAddressKey(text: string): boolean {
  let separator = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e || c === 0x3a) separator = true;
    else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c === 0x2f)) return false;
  }
  return separator;
}

/**
 * The one owner of Rampart's key format. A client is keyed by its address (`198.51.100.7`, IPv6
 * grouped to a network such as `2001:db8:1:2::/64`, `unknown` without one) or by an identity
 * (`identityKey`); the client key (what bans, violations and the admin API use) under one rule and
 * target becomes a store key: `<rule>:<scope or target>:<client key>`.
 */
export class StoreKeys {
  private readonly addressKeys = new Map<string, string>();
  /** Keys of identities that read like another kind (`id:<identity>`), remembered as addresses' are. */
  private readonly prefixedKeys = new Map<string, string>();
  /** Address keys under rules' own IPv6 prefix lengths, per length. */
  private readonly networkKeys = new Map<number, Map<string, string>>();
  /** The last identity longer than a key, and its hashed key. */
  private lastLong = '';
  private lastLongKey = '';

  constructor(private readonly ipv6PrefixLength: number) {}

  /** `<rule>:<scope or target>:`, what a rule's store keys start with on one target. */
  static prefix(ruleName: string, scopeOrTarget: string): string {
    return `${ruleName}:${scopeOrTarget}:`;
  }

  /**
   * The client key of a request: its address key when `identity` is that (the default tracker),
   * otherwise the key of an identity (`identityKey`), whatever text the identity holds.
   *
   * @param addressKey the request's `addressIdentity`
   */
  clientKey(identity: string, addressKey: string): string {
    if (identity === addressKey) return addressKey;
    if (identity.length > MAX_CLIENT_KEY_LENGTH) {
      // Hashed once per request (asked for the ban check and again by a rule resolving the same
      // identity); long identities are not remembered beyond that.
      if (identity !== this.lastLong) {
        this.lastLongKey = identityKey(identity);
        this.lastLong = identity;
      }
      return this.lastLongKey;
    }
    // Most identities are their own key, without allocation; the others are computed once each.
    if (!mayBeReadAsOtherKind(identity)) return identity;
    let key = this.prefixedKeys.get(identity);
    if (key === undefined) {
      key = identityKey(identity);
      if (this.prefixedKeys.size >= ADDRESS_CACHE_SIZE) this.prefixedKeys.clear();
      this.prefixedKeys.set(identity, key);
    }
    return key;
  }

  /**
   * The key of a client address: IPv6 grouped by `ipv6PrefixLength` (or `prefixLength`, a rule's
   * own); `unknown` without one.
   */
  addressIdentity(address: string | null, prefixLength?: number): string {
    if (address === null) return UNKNOWN_CLIENT;
    if (prefixLength !== undefined && prefixLength !== this.ipv6PrefixLength) return this.networkIdentity(address, prefixLength);
    // The key of an address never changes (IPv6 is masked to its prefix): compute it once per address.
    let key = this.addressKeys.get(address);
    if (key === undefined) {
      key = clientKeyForAddress(address, this.ipv6PrefixLength);
      if (this.addressKeys.size >= ADDRESS_CACHE_SIZE) this.addressKeys.clear();
      this.addressKeys.set(address, key);
    }
    return key;
  }

  /** The key of a client address under a rule's own IPv6 prefix length (cached like the module's). */
  private networkIdentity(address: string, prefixLength: number): string {
    let keys = this.networkKeys.get(prefixLength);
    if (keys === undefined) this.networkKeys.set(prefixLength, (keys = new Map()));
    let key = keys.get(address);
    if (key === undefined) {
      key = clientKeyForAddress(address, prefixLength);
      if (keys.size >= ADDRESS_CACHE_SIZE) keys.clear();
      keys.set(address, key);
    }
    return key;
  }
}
