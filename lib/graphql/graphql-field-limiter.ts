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
import { graphqlError, unidentifiedRefusal, verdictRefusal } from './graphql-rate-limit-error.js';
import { isIdentityError } from '../errors/identity.error.js';
import { subscriptionOwner, subscriptionRegistry, type SubscriptionRegistry } from './subscription-registry.js';

/** What one field path of one operation was answered: admitted, refused, or still being decided. */
type Outcome = true | GraphQLError | Promise<true | GraphQLError>;

/** Where an operation's state is kept on its GraphQL context. */
const OPERATION_STATE = Symbol('nest-rampart:graphql-operation');

/** See `GraphqlFieldLimiter.stateOf`. */
interface OperationState {
  root: unknown;
  outcomes: Map<string, Outcome>;
  client?: OperationClient;
  /** Where its headers go; null when it has no HTTP response (a subscription). */
  response?: unknown;
}

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
  /** The state of operations whose context cannot take a property (frozen). */
  private readonly frozen = new WeakMap<object, OperationState>();
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
    // The field too: members of a union or an interface answer at one path (`feed.comments` of a Post
    // and of a Video), each under its own rules.
    const path = `${pathKey(info.path)}|${info.parentType.name}.${info.fieldName}`;
    const state = this.stateOf(graphqlContext, info.rootValue);
    const known = state?.outcomes.get(path);
    if (known !== undefined) return settle(known);
    const { address, identity } = state ? (state.client ??= this.clientOf(graphqlContext, context)) : this.clientOf(graphqlContext, context);
    const target = this.retarget(rules, `${info.parentType.name}.${info.fieldName}`);
    // A client that could not be identified (a resolver's IdentityError) gets UNAUTHENTICATED, uncounted;
    // on a field no rule counts (bans and lists only), it is known by its address.
    const unidentified = (error: unknown): true | GraphQLError | Promise<true | GraphQLError> =>
      target.rules.length === 0 && isIdentityError(error)
        ? decided(this.rampart.engine.identity.addressIdentity(address))
        : graphqlError(unidentifiedRefusal(error));
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
        const outcome = this.answer(responseOf(graphqlContext, state), v);
        // Settled by OutcomeInterceptor once the resolver is done; a refusal at once.
        if (target.outcomes) this.rampart.outcomes.hold(context.getArgs(), v, { context, storeKey, protocol: 'graphql' });
        if (outcome === true && info.operation.operation === 'subscription' && info.path.prev === undefined) {
          const owner = subscriptionOwner(graphqlContext);
          if (owner) this.subscriptions.remember(owner.owner, owner.id, { rules: target, address, identity: id, context, storeKey });
        }
        return outcome;
      };
      return isThenable(verdict) ? Promise.resolve(verdict).then(answer, unidentified) : answer(verdict);
    };
    const outcome = isThenable(identity) ? Promise.resolve(identity).then(decided, unidentified) : decided(identity);
    state?.outcomes.set(path, outcome);
    return settle(outcome);
  }

  /**
   * The client of an operation: the address of its HTTP request and its identity (the module's
   * `keyResolver`, given the first counted field's context), the same for every field of the operation.
   */
  private clientOf(graphqlContext: unknown, context: ExecutionContext): OperationClient {
    const request = operationRequest(graphqlContext);
    const { identity } = this.rampart.engine;
    const address = request === undefined ? null : identity.clientAddress(identity.peerAddress(peerSocket(request)), requestHeaders(request));
    try {
      return { address, identity: identity.identify(context, address) };
    } catch (error) {
      // A resolver that threw (an IdentityError): every field of the operation is answered by it.
      return { address, identity: Promise.reject(error as Error) };
    }
  }

  /**
   * What the limiter keeps of one operation, on its GraphQL context (a property of its own, which a
   * clone of the context does not copy): the outcome of each path, for the root value they were
   * decided under (each event of a subscription runs its fields under its own payload), and the client.
   */
  private stateOf(graphqlContext: unknown, root: unknown): OperationState | undefined {
    if (typeof graphqlContext !== 'object' || graphqlContext === null) return undefined;
    let state = (graphqlContext as { [OPERATION_STATE]?: OperationState })[OPERATION_STATE] ?? this.frozen.get(graphqlContext);
    if (state === undefined) {
      state = { root, outcomes: new Map() };
      if (Object.isExtensible(graphqlContext)) Object.defineProperty(graphqlContext, OPERATION_STATE, { value: state });
      else this.frozen.set(graphqlContext, state);
    } else if (state.root !== root) {
      state.root = root;
      state.outcomes = new Map();
    }
    return state;
  }

  /** Writes the verdict's headers on the operation's HTTP response (when it has one), and gives the error of a refusal. */
  private answer(response: unknown, verdict: Verdict<ExecutionContext>): true | GraphQLError {
    if (response !== undefined && response !== null) this.rampart.headers.write(verdict, response, setHeader);
    const refusal = verdictRefusal(verdict, this.rampart.config.errorMessage);
    return refusal === undefined ? true : graphqlError(refusal);
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

/** Where an operation's headers go (found once per operation); undefined or null when nowhere. */
function responseOf(graphqlContext: unknown, state: OperationState | undefined): unknown {
  if (state === undefined) return operationResponse(graphqlContext);
  if (state.response === undefined) state.response = operationResponse(graphqlContext) ?? null;
  return state.response;
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
