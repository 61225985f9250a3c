import type { ExecutionContext } from '@nestjs/common';
import type { StoreKeyHook } from '../engine/rampart-request.js';
import type { TargetRules } from '../engine/target-rules.js';

/** A subscription the guard admitted: what each of its events is counted with. */
export interface SubscriptionEntry {
  readonly rules: TargetRules<ExecutionContext>;
  readonly address: string | null;
  readonly identity: string;
  /** The subscribing call's context, for the rules' hooks. */
  readonly context: ExecutionContext;
  readonly storeKey: StoreKeyHook<ExecutionContext>;
}

/**
 * The subscriptions the guard admitted, found again by the server hooks that see their events: by
 * the context their resolvers got (Apollo's graphql-ws), or by the connection's upgrade request and
 * the operation id (Mercurius). Held weakly: a subscription is forgotten with its context or connection.
 */
export class SubscriptionRegistry {
  private readonly entries = new WeakMap<object, Map<string, SubscriptionEntry>>();

  remember(owner: object, id: string, entry: SubscriptionEntry): void {
    let byId = this.entries.get(owner);
    if (!byId) this.entries.set(owner, (byId = new Map()));
    byId.set(id, entry);
  }

  find(owner: unknown, id = ''): SubscriptionEntry | undefined {
    return typeof owner === 'object' && owner !== null ? this.entries.get(owner)?.get(id) : undefined;
  }

  forget(owner: unknown, id = ''): void {
    if (typeof owner === 'object' && owner !== null) this.entries.get(owner)?.delete(id);
  }
}

/**
 * Where a resolver's context keeps its subscription: Mercurius gives each operation a copy of the
 * connection's context with its `id` and the upgrade `request`; graphql-ws (Apollo) one context per operation.
 */
export function subscriptionOwner(context: unknown): { owner: object; id: string } | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  const { id, request } = context as { id?: unknown; request?: unknown };
  if (typeof id === 'string' && typeof request === 'object' && request !== null) return { owner: request, id };
  return { owner: context, id: '' };
}

const registries = new WeakMap<object, SubscriptionRegistry>();

/** The registry of one Rampart instance, shared by its guard and its GraphQL server hooks. */
export function subscriptionRegistry(rampart: object): SubscriptionRegistry {
  let registry = registries.get(rampart);
  if (!registry) registries.set(rampart, (registry = new SubscriptionRegistry()));
  return registry;
}
