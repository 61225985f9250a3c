/**
 * `nest-rampart/graphql`: limits on GraphQL operations before they run (document length, depth,
 * complexity, a per-client complexity budget) and on subscriptions (connections, events), for
 * `@nestjs/graphql` with Apollo or Mercurius. Loads `graphql` and `@nestjs/graphql`; the main entry
 * loads neither (its guard limits resolvers without this entry point).
 */
export { rampartGraphql, type RampartGraphql } from './rampart-graphql.js';
export type { RampartGraphqlOptions, ComplexityBudget } from './rampart-graphql-options.js';
export { Cost, COST_EXTENSION, type CostOptions } from './cost.decorator.js';
export { CONNECTION_REFUSED_CLOSE_CODE, CONNECTION_UNAUTHENTICATED_CLOSE_CODE } from './subscription-limits.js';
export type { GraphqlRateLimitCode, GraphqlRateLimitExtensions } from './graphql-rate-limit-error.js';
export type { RampartApolloPlugin } from './apollo-plugin.js';
export type { GraphqlWsHooks } from './graphql-ws-hooks.js';
export type { RampartMercuriusHooks } from './mercurius-hooks.js';
