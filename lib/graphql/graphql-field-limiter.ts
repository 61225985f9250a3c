import type { ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { GraphQLError, GraphQLResolveInfo } from 'graphql';
import { isThenable } from '../core/thenable.js';
import type { Rampart } from '../engine/rampart.js';
import type { StoreKeyHook } from '../engine/rampart-request.js';
import { targetRules, type TargetRules } from '../engine/target-rules.js';
import type { Verdict } from '../engine/verdict.js';
import { peerSocket, requestHeaders, setHeader } from '../http-exchange.js';
import { operationRequest, operationResponse } from './graphql-exchange.js';
import { graphqlError, verdictRefusal } from './graphql-rate-limit-error.js';
import { subscriptionOwner, subscriptionRegistry, type SubscriptionRegistry } from './subscription-registry.js';

/** What one field path of one operation was answered: admitted, refused, or still being decided. */
type Outcome = true | GraphQLError | Promise<true | GraphQLError>;

/** Who sent an operation: its address (null when unknown) and its identity (a promise while a key resolver answers). */
interface OperationClient {
  readonly address: string | null;
  readonly identity: string | Promise<string>;
}

/** Targets remembered per resolver method (a method serves one field, or one per implementing type). */
const MAX_TARGETS_PER_METHOD = 64;

/**
 * The GraphQL adapter of Rampart's engine, for resolvers: counts each call of a query, mutation,
 * subscription or field resolver against its method's rules, keyed by the schema field
 * (`Query.users`, `Post.comments`), with the identity of the HTTP request the operation came by.
 * Loaded by the guard on the first GraphQL context, so that an app without GraphQL never loads it.
 *
 * A field is counted once per operation and response path, list indices left out: a field
 * resolver under a list of 100 posts (`posts.comments`) counts once, and its 99 other calls share
 * that answer; an alias is a path of its own, and counts again.
 */
export class GraphqlFieldLimiter {
  private readonly targets = new WeakMap<TargetRules<ExecutionContext>, Map<string, TargetRules<ExecutionContext>>>();
  /** Per operation (its context; an event's payload for subscriptions), the outcome of each path. */
  private readonly operations = new WeakMap<object, Map<string, Outcome>>();
  /** Per operation context, its client: identified once, at its first counted field. */
  private readonly clients = new WeakMap<object, OperationClient>();
  private readonly subscriptions: SubscriptionRegistry;

  constructor(private readonly rampart: Rampart<ExecutionContext>) {
    this.subscriptions = subscriptionRegistry(rampart);
  }

  /** Decides one resolver call; resolves true when admitted, throws a GraphQL error when not. */
  activate(context: ExecutionContext, rules: TargetRules<ExecutionContext>, storeKey: StoreKeyHook<ExecutionContext>): boolean | Promise<boolean> {
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<GraphQLResolveInfo | undefined>();
    // A call without resolve info (a federation reference resolver) has no field to count.
    if (info?.parentType === undefined) return true;
    const graphqlContext = gql.getContext<unknown>();
    const path = pathKey(info.path);
    const outcomes = this.outcomesOf(info, graphqlContext);
    const known = outcomes?.get(path);
    if (known !== undefined) return settle(known);
    const { address, identity } = this.clientOf(graphqlContext, context);
    const target = this.retarget(rules, `${info.parentType.name}.${info.fieldName}`);
    const decided = (id: string): true | GraphQLError | Promise<true | GraphQLError> => {
      const verdict = this.rampart.engine.decide({
        target,
        address,
        identity: id,
        method: info.operation.operation,
        protocol: 'graphql',
        context,
        storeKey,
        skipChecked: true,
      });
      const answer = (v: Verdict<ExecutionContext>) => {
        const outcome = this.answer(graphqlContext, v);
        if (outcome === true && info.operation.operation === 'subscription' && info.path.prev === undefined) {
          const owner = subscriptionOwner(graphqlContext);
          if (owner) this.subscriptions.remember(owner.owner, owner.id, { rules: target, address, identity: id, context, storeKey });
        }
        return outcome;
      };
      return isThenable(verdict) ? Promise.resolve(verdict).then(answer) : answer(verdict);
    };
    const outcome = isThenable(identity) ? Promise.resolve(identity).then(decided) : decided(identity);
    outcomes?.set(path, outcome);
    return settle(outcome);
  }

  /**
   * The client of an operation: the address of its HTTP request and its identity (the module's
   * `keyResolver`, given the first counted field's context), the same for every field of the operation.
   */
  private clientOf(graphqlContext: unknown, context: ExecutionContext): OperationClient {
    const holder = typeof graphqlContext === 'object' && graphqlContext !== null ? graphqlContext : undefined;
    const known = holder && this.clients.get(holder);
    if (known) return known;
    const request = operationRequest(graphqlContext);
    const { identity } = this.rampart.engine;
    const address = request === undefined ? null : identity.clientAddress(identity.peerAddress(peerSocket(request)), requestHeaders(request));
    const client = { address, identity: identity.identify(context, address) };
    if (holder) this.clients.set(holder, client);
    return client;
  }

  /** Writes the verdict's headers on the operation's HTTP response, and gives the error of a refusal. */
  private answer(graphqlContext: unknown, verdict: Verdict<ExecutionContext>): true | GraphQLError {
    const response = operationResponse(graphqlContext);
    if (response !== undefined) this.rampart.headers.write(verdict, response, setHeader);
    const refusal = verdictRefusal(verdict, this.rampart.config.errorMessage);
    return refusal === undefined ? true : graphqlError(refusal);
  }

  /** The outcomes of this operation's paths: per context, and per event of a subscription (its payload). */
  private outcomesOf(info: GraphQLResolveInfo, graphqlContext: unknown): Map<string, Outcome> | undefined {
    const root: unknown = info.rootValue;
    const holder = info.operation.operation === 'subscription' && typeof root === 'object' && root !== null ? root : graphqlContext;
    if (typeof holder !== 'object' || holder === null) return undefined;
    let outcomes = this.operations.get(holder);
    if (!outcomes) this.operations.set(holder, (outcomes = new Map()));
    return outcomes;
  }

  /** The method's rules, counted per schema field. */
  private retarget(rules: TargetRules<ExecutionContext>, target: string): TargetRules<ExecutionContext> {
    let byTarget = this.targets.get(rules);
    if (!byTarget) this.targets.set(rules, (byTarget = new Map()));
    let retargeted = byTarget.get(target);
    if (!retargeted) {
      if (byTarget.size >= MAX_TARGETS_PER_METHOD) byTarget.clear();
      retargeted = targetRules(
        target,
        rules.rules.map((r) => r.rule),
      );
      byTarget.set(target, retargeted);
    }
    return retargeted;
  }
}

function settle(outcome: Outcome): true | Promise<true> {
  if (outcome === true) return true;
  if (isThenable(outcome)) return outcome.then(settle);
  throw outcome;
}

/** The response path of a field without list indices: `posts.comments` for `posts[3].comments`. */
function pathKey(path: GraphQLResolveInfo['path']): string {
  let key = '';
  for (let p: GraphQLResolveInfo['path'] | undefined = path; p !== undefined; p = p.prev) {
    // List indices are numbers (strings of digits under graphql-jit); no field name starts with a digit.
    if (typeof p.key === 'string' && !/^\d/.test(p.key)) key = key === '' ? p.key : `${p.key}.${key}`;
  }
  return key;
}
