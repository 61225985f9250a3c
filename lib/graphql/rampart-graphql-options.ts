import type { ExecutionContext } from '@nestjs/common';
import { isPositiveInteger, resolveRule, STORE_ERROR_POLICIES } from '../engine/rule-resolution.js';
import type { RateLimitRule, StoreErrorPolicy } from '../engine/rule.interface.js';
import { targetRules, type TargetRules } from '../engine/target-rules.js';
import * as messages from '../errors/messages.js';
import type { CostOptions } from './cost.decorator.js';
import type { FieldCost } from './operation-cost.js';

/** What an operation's complexity is counted against, per client: a rule whose requests cost their complexity. */
export type ComplexityBudget = Omit<RateLimitRule<ExecutionContext>, 'cost' | 'scope'>;

/** Options of `rampartGraphql`: limits on operations before they run, and on subscriptions' connections. */
export interface RampartGraphqlOptions {
  /**
   * Longest document accepted, in characters; a longer one is refused before it is parsed
   * (`QUERY_TOO_LARGE`, HTTP 400).
   * @default 10_000
   */
  maxDocumentLength?: number;
  /**
   * Deepest field nesting accepted, root fields at depth 1 (`{ posts { comments { text } } }` is 3);
   * a deeper operation is refused before it runs (`QUERY_TOO_DEEP`, HTTP 400).
   * @default 10
   */
  maxDepth?: number;
  /**
   * Deepest nesting accepted under a root `__schema` or `__type` (introspection), counted from the
   * root like `maxDepth`. The standard introspection query (GraphiQL, code generators) needs 15.
   * @default 15
   */
  maxIntrospectionDepth?: number;
  /**
   * Highest complexity accepted: the sum over the operation's fields of `(cost + complexity of the
   * fields below) × multipliers` (see `@Cost`). A more complex operation is refused before it runs
   * (`QUERY_TOO_COMPLEX`, HTTP 400).
   * @default 1_000
   */
  maxComplexity?: number;
  /** What a field without `@Cost` (or a numeric `complexity`) costs. @default 1 */
  defaultFieldCost?: number;
  /**
   * Field costs by `Type.field`, for schemas without decorators (schema first), or over them.
   * @example { 'Query.search': { value: 10, multipliers: ['first'] }, 'User.friends': 5 }
   */
  fieldCosts?: Readonly<Record<string, number | CostOptions>>;
  /**
   * A per-client complexity budget: each operation consumes its complexity from this rule (named
   * `complexity` unless it says otherwise); one that would overdraw it is refused before it runs
   * (`RATE_LIMITED`, HTTP 429, `Retry-After`). Off when absent.
   * @example { limit: 20_000, windowMs: 60_000 }
   */
  budget?: ComplexityBudget;
  /**
   * Rules each new subscription connection (graphql-ws, either driver) is counted against at its
   * `connection_init`; a refused connection is closed with code 4429. Bans and the deny-list are
   * checked there too. `[]`: only bans and lists.
   * @default the module's rules
   */
  connectionRules?: readonly RateLimitRule<ExecutionContext>[];
  /**
   * Most subscription connections one client may hold open at once, across every instance (leases
   * in `storage.leases`, see the module's `leaseMs`). The connection over it is closed with 4429
   * (`TOO_MANY_CONNECTIONS`); its slot comes free when a connection closes. Unlimited when absent.
   * @example maxConnectionsPerClient: 5
   */
  maxConnectionsPerClient?: number;
  /**
   * What `maxConnectionsPerClient` does while the lease store fails: `'deny'` closes the new
   * connection (4429, `UNAVAILABLE`), `'allow'` admits it uncounted.
   * @default 'deny'
   */
  connectionsOnStoreError?: StoreErrorPolicy;
}

/** The options checked, with their defaults. */
export interface GraphqlLimitsConfig {
  readonly maxDocumentLength: number;
  readonly maxDepth: number;
  readonly maxIntrospectionDepth: number;
  readonly maxComplexity: number;
  readonly defaultFieldCost: FieldCost;
  readonly fieldCosts: ReadonlyMap<string, FieldCost>;
  readonly budget?: TargetRules<ExecutionContext>;
  /** Undefined: the module's rules. */
  readonly connectionRules?: TargetRules<ExecutionContext>;
  readonly maxConnectionsPerClient?: number;
  readonly connectionsOnStoreError: StoreErrorPolicy;
}

/** What the complexity budget counts per, and what connections count per. */
export const OPERATION_TARGET = 'GraphQL.operation';
export const CONNECTION_TARGET = 'GraphQL.connection';

/** Checks the options; problems are appended (the returned config only means something without any). */
export function resolveGraphqlOptions(options: RampartGraphqlOptions, problems: string[]): GraphqlLimitsConfig {
  const count = (name: 'maxDocumentLength' | 'maxDepth' | 'maxIntrospectionDepth' | 'maxComplexity', fallback: number): number => {
    const value = options[name] ?? fallback;
    if (!isPositiveInteger(value)) problems.push(messages.notPositiveInteger(`rampartGraphql.${name}`, value));
    return value;
  };
  const fieldCosts = new Map<string, FieldCost>();
  for (const [field, cost] of Object.entries(options.fieldCosts ?? {})) {
    fieldCosts.set(field, fieldCost(cost, `rampartGraphql.fieldCosts['${field}']`, problems));
  }
  const budget = options.budget === undefined ? undefined : resolveRule({ name: 'complexity', ...options.budget }, 'rampartGraphql.budget', problems);
  const connections = options.connectionRules?.map((rule, i) => resolveRule(rule, `rampartGraphql.connectionRules[${i}]`, problems));
  const { maxConnectionsPerClient, connectionsOnStoreError = 'deny' } = options;
  if (maxConnectionsPerClient !== undefined && !isPositiveInteger(maxConnectionsPerClient)) {
    problems.push(messages.notPositiveInteger('rampartGraphql.maxConnectionsPerClient', maxConnectionsPerClient));
  }
  if (!STORE_ERROR_POLICIES.includes(connectionsOnStoreError))
    problems.push(messages.badStoreErrorPolicy('rampartGraphql.connectionsOnStoreError', connectionsOnStoreError));
  return {
    maxDocumentLength: count('maxDocumentLength', 10_000),
    maxDepth: count('maxDepth', 10),
    maxIntrospectionDepth: count('maxIntrospectionDepth', 15),
    maxComplexity: count('maxComplexity', 1_000),
    defaultFieldCost: fieldCost(options.defaultFieldCost ?? 1, 'rampartGraphql.defaultFieldCost', problems),
    fieldCosts,
    ...(budget ? { budget: targetRules(OPERATION_TARGET, [budget]) } : {}),
    ...(connections ? { connectionRules: targetRules(CONNECTION_TARGET, connections) } : {}),
    ...(maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient } : {}),
    connectionsOnStoreError,
  };
}

/** A cost as given (a number, or `{ value, multipliers }`), checked. */
export function fieldCost(cost: unknown, path: string, problems?: string[]): FieldCost {
  const given = typeof cost === 'number' ? { value: cost } : (cost as Partial<CostOptions> | null | undefined);
  const value = given?.value;
  const multipliers = given?.multipliers ?? [];
  const valid = typeof value === 'number' && Number.isFinite(value) && value >= 0;
  if (!valid) problems?.push(messages.badFieldCost(path, cost));
  if (!Array.isArray(multipliers) || multipliers.some((m) => typeof m !== 'string'))
    problems?.push(messages.badMultipliers(`${path}.multipliers`, multipliers));
  return { value: valid ? value : 1, multipliers: Array.isArray(multipliers) ? multipliers.filter((m): m is string => typeof m === 'string') : [] };
}
