import type { BanSync } from '../protection/ban-sync.js';
import type { Decision, Tally } from './decision.js';
import type { NetworkKeys } from './network-keys.js';
import { identityText } from './rampart-request.js';
import type { StoreKeys } from './store-keys.js';
import { shadowKey } from './store-keys.js';
import type { TargetRule } from './target-rules.js';

/**
 * A rule's `keyResolver` that counts each request by its client address (its address key, IPv6
 * grouped by the module's `ipv6PrefixLength`), whatever identity the module's `keyResolver` gives:
 * a client cannot escape the rule by changing what that resolver reads (an API key, a header).
 */
export const byClientAddress = (): undefined => undefined;

/**
 * The client key a rule counts the request's client by: its own `keyResolver`'s identity (the
 * address key under `byClientAddress`), its own IPv6 prefix length's network, or the request's client key.
 */
export async function ruleClientKey<C>(decision: Decision<C>, targetRule: TargetRule<C>, keys: StoreKeys, networks: NetworkKeys): Promise<string> {
  const { rule } = targetRule;
  if (rule.keyResolver === byClientAddress) return decision.addressKey;
  if (rule.keyResolver) {
    const identity = identityText(await rule.keyResolver(decision.request.context as C, decision.address)) ?? decision.identity;
    return identity === decision.identity ? decision.clientKey : keys.clientKey(identity, decision.addressKey);
  }
  return rule.ipv6PrefixLength === undefined ? decision.clientKey : networks.key(decision, rule.ipv6PrefixLength);
}

/**
 * Whether a rule's own identity (an API key, a wider network...) is banned, blocked or deny-listed:
 * then it is refused and not counted, and the refusal goes to the tally. (The address's bans were
 * checked before any rule.) A shadow rule reports it as its shadow refusal, with what its own
 * escalation would have given that identity.
 */
export async function ownIdentityRefused<C>(bans: BanSync, clientKey: string, shadow: boolean, nowMs: number, tally: Tally<C>): Promise<boolean> {
  let known = await bans.check(clientKey, null, nowMs);
  if (shadow && known.status === 'none') known = await bans.check(shadowKey(clientKey), null, nowMs);
  if (known.status !== 'blocked' && known.status !== 'banned' && known.status !== 'deny-listed') return false;
  if (shadow) tally.shadowRefusal ??= known;
  else tally.refusal ??= known;
  return true;
}
