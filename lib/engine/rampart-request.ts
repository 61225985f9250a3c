import { ruleCapacity } from '../core/algorithms/algorithm.interface.js';
import type { Decision } from './decision.js';
import type { TargetRule, TargetRules } from './target-rules.js';

/**
 * Builds the store key of one client under one rule, in place of the default
 * `<rule>:<scope or target>:<client key>` (the HTTP guard's `generateKey` hook). It is handed the
 * client key, so an identity never shares a key with an address (see `identityKey`).
 */
export type StoreKeyHook<C = unknown> = (context: C | undefined, clientKey: string, rule: TargetRule<C>) => string;

/** The store key of a client key under a rule for a request: its adapter's `storeKey` hook's, else `<rule>:<scope or target>:<client key>`. */
export function requestStoreKey<C>(request: Pick<RampartRequest<C>, 'context' | 'storeKey'>, rule: TargetRule<C>, clientKey: string): string {
  const { storeKey } = request;
  return storeKey ? storeKey(request.context, clientKey, rule) : rule.keyPrefix + clientKey;
}

/**
 * One request, as an adapter describes it to the engine. Only `target` and `address` are required.
 *
 * @example
 * // A plain Node HTTP server
 * rampart.decide({ target: 'GET /search', address: rampart.clientAddress(req.socket.remoteAddress, req.headers), method: 'GET' })
 */
export interface RampartRequest<C = unknown> {
  /**
   * What is being called: a name (the module's rules apply, counted per this name: `GET /search`,
   * `chat.message`, `Query.users`), or the rules an adapter resolved for it (decorators).
   */
  readonly target: string | TargetRules<C>;
  /**
   * The client address, null when unknown. `Rampart.clientAddress` gives it from a socket peer and
   * its headers (forwarded headers only from trusted proxies); the engine takes it to its canonical
   * form, and text that is no address counts as unknown.
   */
  readonly address: string | null;
  /**
   * Who the client is (a user id, an API key). Default: the `keyResolver`'s answer for `context`,
   * else the address, IPv6 grouped by `ipv6PrefixLength`; `unknown` when there is no address either
   * (every such client shares it: counted, never escalated). Text other than the address's own key
   * is an identity, keyed apart from every address (`id:198.51.100.7` for an identity that reads
   * like one): its counters, violations and bans are its own, and the bans of the request's address
   * apply to it too.
   */
  readonly identity?: string;
  /** The client's group, when the adapter knows it. @default the module's `groupResolver`'s answer for `context`, else `default` */
  readonly group?: string;
  /** The method or operation (`GET`, `mutation`...), recorded with violations. @default 'GET' */
  readonly method?: string;
  /** Which protocol the request came by (`http`, `ws`, `graphql`, `rpc`...), a label for the adapters' reports. @default 'http' */
  readonly protocol?: string;
  /** Units this request costs; a rule's own cost function wins over it. @default each rule's `cost` */
  readonly cost?: number;
  /** When the request arrived (epoch ms). @default the configured clock */
  readonly nowMs?: number;
  /** Handed to the rules' hooks (`keyResolver`, `skipIf`, `cost`): Nest's ExecutionContext in Nest. */
  readonly context?: C;
  /** Replaces the default store key format for this request's rules. */
  readonly storeKey?: StoreKeyHook<C>;
  /**
   * The adapter already asked the module's `skipIf` (the HTTP guard's `shouldSkip` hook does), so
   * the engine does not ask it again. @default false
   */
  readonly skipChecked?: boolean;
}

/**
 * What a key resolver returned, as an identity: a non-empty string as it is, a number (a numeric
 * user id) as its text, and anything else (nothing, an empty string, an array or object from parsed
 * request data) undefined, meaning the client address. A non-string key would match no ban by key
 * and no violation could be recorded for it, so escalation would never reach it.
 */
export function identityText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * A cost as whole units the store can count: rounded up, at least 1 (a negative cost would give
 * quota back; NaN or a non-number counts as 1), and at most one more than the rule's capacity (any
 * cost above it is denied alike; a huge one would lose precision in a counter that is incremented
 * and then given back).
 */
export function requestCost(value: unknown, capacity: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 1) return 1;
  return Math.min(Math.ceil(value), capacity + 1);
}

/**
 * A fixed-cost rule's cost for this request: the request's own cost when it has one, else the rule's.
 * `capacity`: the capacity the request is counted with, when its limits vary per request.
 */
export function fixedCost<C>(decision: Decision<C>, targetRule: TargetRule<C>, capacity?: number): number {
  const { cost } = decision.request;
  const { rule } = targetRule;
  return cost === undefined ? (rule.cost as number) : requestCost(cost, capacity ?? ruleCapacity(rule.storeRule));
}
