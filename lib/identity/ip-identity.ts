import { parseAddress } from '../core/ip/client-address.js';
import { IpRangeIndex } from '../core/ip/ip-range-index.js';
import { parseIpRange, type IpRange } from '../core/ip/ip-range.js';
import { checkFields, isObject } from '../core/option-objects.js';
import * as identityMessages from '../errors/identity-messages.js';
import * as policyMessages from '../errors/policy-messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { groupText } from '../engine/groups.js';
import { canonicalCidr } from '../storage/store-input.js';
import type { IdentityResolvers } from './identity-request.js';

export interface IpIdentityOptions {
  /**
   * Groups by address range: each group's IP addresses and CIDR ranges (IPv4 and IPv6). An address in
   * several ranges takes the group of the most specific one (the longest prefix), so a range of the
   * `default` group carves a network out of a wider one; an address in none is in the `default` group.
   * @example { internal: ['10.0.0.0/8', 'fd00::/8'], partner: ['203.0.113.0/24'] }
   */
  groups?: Record<string, readonly string[]>;
}

/** Addresses whose group is remembered (emptied when full). */
const CACHE_SIZE = 10_000;

/**
 * The client address as identity (what Rampart counts without a resolver: the socket peer, or what a
 * trusted proxy forwarded, see `trustProxy`; IPv6 by `ipv6PrefixLength`), and groups by address
 * range. The address is the one Rampart resolved: forwarded headers from untrusted peers never choose
 * a group. Invalid ranges stop the app at startup, every one listed in one `RateLimitConfigurationError`.
 *
 * @example
 * RateLimitModule.forRoot({
 *   ...ipIdentity({ groups: { internal: ['10.0.0.0/8'] } }),
 *   groups: { internal: { unlimited: true } },
 *   trustProxy: { proxies: ['10.0.3.7'] },
 * })
 */
export function ipIdentity(options: IpIdentityOptions = {}): IdentityResolvers {
  const problems: string[] = [];
  const ranges = checkRangeGroups(options, problems);
  if (problems.length > 0) throw new RateLimitConfigurationError(problems, 'ipIdentity');
  const cache = new Map<string, string | undefined>();
  return {
    // The address is the identity already: Rampart falls back to it when a key resolver names none.
    keyResolver: () => undefined,
    groupResolver: (_context, address) => {
      if (address === null || ranges.size === 0) return undefined;
      let group = cache.get(address);
      if (group === undefined && !cache.has(address)) {
        const parsed = parseAddress(address);
        group = parsed === null ? undefined : ranges.collect(parsed, []).pop();
        if (cache.size >= CACHE_SIZE) cache.clear();
        cache.set(address, group);
      }
      return group;
    },
  };
}

/** The ranges of `options.groups`, indexed, each naming its group; problems appended. */
function checkRangeGroups(options: IpIdentityOptions, problems: string[]): IpRangeIndex<string> {
  const index = new IpRangeIndex<string>();
  if (!isObject(options)) {
    problems.push(identityMessages.notAnOptionsObject('ipIdentity', options));
    return index;
  }
  checkFields(options, 'ipIdentity', ['groups'], problems);
  const { groups } = options;
  if (groups === undefined) return index;
  if (!isObject(groups)) {
    problems.push(identityMessages.badRangeGroups(groups));
    return index;
  }
  const owners = new Map<string, string>();
  for (const [name, list] of Object.entries(groups)) {
    if (groupText(name) !== name) problems.push(policyMessages.badGroupName('ipIdentity.groups', name));
    if (!Array.isArray(list) || list.length === 0) {
      problems.push(identityMessages.badRangeList(`ipIdentity.groups.${name}`, list));
      continue;
    }
    list.forEach((text: unknown, i) => {
      const path = `ipIdentity.groups.${name}[${i}]`;
      let cidr: string;
      try {
        cidr = canonicalCidr(text, path);
      } catch (error) {
        problems.push((error as Error).message);
        return;
      }
      const owner = owners.get(cidr);
      if (owner !== undefined && owner !== name) problems.push(identityMessages.rangeInTwoGroups(cidr, owner, name));
      owners.set(cidr, name);
      index.set(cidr, (parseIpRange(cidr) as { readonly range: IpRange }).range, name);
    });
  }
  return index;
}
