import type { BanSync } from '../protection/ban-sync.js';
import type { ProtectionVerdict } from '../protection/protection-verdict.js';
import type { Decision } from './decision.js';
import type { StoreKeys } from './store-keys.js';

/**
 * The wider IPv6 networks rules of their own prefix length count clients by (an aggregate limit per
 * /48...). A block escalation gives such a network is on its address key, and refuses every client
 * in it on every target, as an address's own block does.
 */
export class NetworkKeys {
  /** The prefix lengths in use: the module's rules', and route rules' once met. */
  private readonly lengths = new Set<number>();

  /** @param known prefix lengths already met (by the networks a reload replaces) */
  constructor(
    rules: readonly { readonly ipv6PrefixLength?: number }[],
    private readonly keys: StoreKeys,
    private readonly bans: BanSync,
    known?: NetworkKeys,
  ) {
    for (const rule of rules) if (rule.ipv6PrefixLength !== undefined) this.lengths.add(rule.ipv6PrefixLength);
    for (const length of known?.lengths ?? []) this.lengths.add(length);
  }

  /**
   * The client key under a rule of its own IPv6 prefix length: the address key of the client's
   * network of that length when the request is identified by its address, else the request's key.
   */
  key<C>(decision: Decision<C>, prefixLength: number): string {
    if (decision.address === null || decision.clientKey !== decision.addressKey) return decision.clientKey;
    this.lengths.add(prefixLength);
    return this.keys.addressIdentity(decision.address, prefixLength);
  }

  /** A block or ban in force on a wider network of the client's IPv6 address, if any. */
  ban<C>(decision: Decision<C>): ProtectionVerdict | undefined {
    const { address, addressKey, nowMs } = decision;
    if (this.lengths.size === 0 || address === null || !address.includes(':')) return undefined;
    for (const length of this.lengths) {
      const key = this.keys.addressIdentity(address, length);
      if (key === addressKey) continue;
      const known = this.bans.checkKey(key, nowMs);
      if (known.status !== 'none') return known;
    }
    return undefined;
  }
}
