import { createHash } from 'node:crypto';
import { clientKeyForAddress, UNKNOWN_CLIENT } from '../core/ip/client-key.js';
import type { StoreRule } from '../core/rule-decision.js';

/** Client keys longer than this are stored as a hash, so hostile identities cannot bloat the store. */
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
 * The one owner of Rampart's key format. A client's identity (an address, a user id, an API key)
 * becomes its client key (the key bans, violations and the admin API use); a client key under one
 * rule and target becomes a store key: `<rule>:<scope or target>:<client key>`.
 */
export class StoreKeys {
  private readonly addressKeys = new Map<string, string>();
  /** Address keys under rules' own IPv6 prefix lengths, per length. */
  private readonly networkKeys = new Map<number, Map<string, string>>();
  private lastHashed: { identity: string; key: string } | undefined;

  constructor(private readonly ipv6PrefixLength: number) {}

  /** `<rule>:<scope or target>:`, what a rule's store keys start with on one target. */
  static prefix(ruleName: string, scopeOrTarget: string): string {
    return `${ruleName}:${scopeOrTarget}:`;
  }

  /** An identity as stored: itself, or `sha256:<base64url>` when longer than 128 characters. */
  clientKey(identity: string): string {
    if (identity.length <= MAX_CLIENT_KEY_LENGTH) return identity;
    // A request asks for the key of its identity for the ban check and once per rule: hash it once.
    if (identity !== this.lastHashed?.identity) {
      this.lastHashed = { identity, key: `sha256:${createHash('sha256').update(identity).digest('base64url')}` };
    }
    return this.lastHashed.key;
  }

  /**
   * The identity of a client address: IPv6 grouped by `ipv6PrefixLength` (or `prefixLength`, a
   * rule's own); `unknown` without one.
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

  /** The identity of a client address under a rule's own IPv6 prefix length (cached like the module's). */
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

  /** The store key of `identity` under a rule whose keys start with `keyPrefix`. */
  storeKey(keyPrefix: string, identity: string): string {
    return keyPrefix + this.clientKey(identity);
  }
}
