import type { ExecutionContext } from '@nestjs/common';
import type { Rampart } from '../engine/rampart.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { apolloPlugin, type RampartApolloPlugin } from './apollo-plugin.js';
import { GraphqlLimits } from './graphql-limits.js';
import { graphqlWsHooks, type GraphqlWsHooks } from './graphql-ws-hooks.js';
import { mercuriusHooks, mercuriusSubscription, type RampartMercuriusHooks } from './mercurius-hooks.js';
import * as messages from '../errors/messages.js';
import { resolveGraphqlOptions, type RampartGraphqlOptions } from './rampart-graphql-options.js';
import { SubscriptionLimits, type ClosableSocket } from './subscription-limits.js';

/** What `rampartGraphql` gives: the pieces to put in `GraphQLModule`'s options, one set per driver. */
export interface RampartGraphql {
  /** Apollo: the plugin for `plugins` (document length, depth, complexity, budget). */
  apolloPlugin(): RampartApolloPlugin;
  /**
   * Apollo: graphql-ws options for `subscriptions: { 'graphql-ws': ... }` (connections, subscription
   * cost, events), over the app's own graphql-ws options, whose hooks it calls.
   */
  graphqlWs<O extends object>(options?: O): O & GraphqlWsHooks;
  /** Mercurius: hooks for the driver's `hooks` (document length, depth, complexity, budget, events). */
  mercuriusHooks(): RampartMercuriusHooks;
  /** Mercurius: options for `subscription` (connections), over the app's own, whose `context` it calls. */
  mercuriusSubscription<O extends object>(options?: O): O & { context(socket: ClosableSocket, request: unknown): Promise<unknown> };
}

/**
 * The limits of GraphQL operations that the guard cannot apply from inside a resolver: the length,
 * depth and complexity of each operation before it runs, a per-client complexity budget, and the
 * connections and events of subscriptions. `@Throttle` and `@SkipThrottle` on resolvers need none
 * of it (the global guard applies them). Options are checked at once: a `RateLimitConfigurationError`
 * lists every problem.
 *
 * @param rampart the module's `Rampart` (inject it in `GraphQLModule.forRootAsync`)
 *
 * @example
 * GraphQLModule.forRootAsync<ApolloDriverConfig>({
 *   driver: ApolloDriver,
 *   inject: [Rampart],
 *   useFactory: (rampart: Rampart) => {
 *     const limits = rampartGraphql(rampart, { maxDepth: 8, maxComplexity: 500, budget: { limit: 10_000, windowMs: 60_000 } });
 *     return {
 *       autoSchemaFile: true,
 *       fieldResolverEnhancers: ['guards'],             // field resolvers are limited too
 *       plugins: [limits.apolloPlugin()],
 *       subscriptions: { 'graphql-ws': limits.graphqlWs() },
 *     };
 *   },
 * })
 */
export function rampartGraphql(rampart: Rampart<ExecutionContext> | Rampart, options: RampartGraphqlOptions = {}): RampartGraphql {
  const problems: string[] = [];
  const config = resolveGraphqlOptions(options, problems);
  if (config.maxConnectionsPerClient !== undefined && !rampart.leases.available) problems.push(messages.noLeaseStore());
  if (problems.length > 0) throw new RateLimitConfigurationError(problems, 'rampartGraphql');
  // The module's Rampart (injected as `Rampart`) hands rule hooks Nest's ExecutionContext.
  const limits = new GraphqlLimits(rampart as Rampart<ExecutionContext>, config);
  const subscriptions = new SubscriptionLimits(limits);
  return {
    apolloPlugin: () => apolloPlugin(limits),
    graphqlWs: <O extends object>(given?: O) => graphqlWsHooks(limits, subscriptions, given ?? ({} as O)),
    mercuriusHooks: () => mercuriusHooks(limits, subscriptions),
    mercuriusSubscription: <O extends object>(given?: O) => mercuriusSubscription(subscriptions, given ?? ({} as O)),
  };
}
