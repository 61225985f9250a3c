import { GraphQLError, parse, validate, type ExecutionArgs, type GraphQLFormattedError } from 'graphql';
import type { GraphqlLimits } from './graphql-limits.js';
import { graphqlError } from './graphql-rate-limit-error.js';
import type { ClosableSocket, SubscriptionLimits } from './subscription-limits.js';

/** What the hooks read of graphql-ws's context on `ws` (`useServer`): the upgrade request and the socket. */
interface WsContext {
  readonly connectionParams?: unknown;
  readonly extra: unknown;
}

interface SubscribePayload {
  readonly query: string;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown> | null;
}

/** The graphql-ws server hooks Rampart sets (over those given to it, which it calls). */
export interface GraphqlWsHooks {
  onConnect(ctx: WsContext): Promise<boolean | Record<string, unknown> | void>;
  onSubscribe(ctx: WsContext, id: string, payload: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[] | void>;
  onNext(ctx: WsContext, id: string, payload: SubscribePayload, args: ExecutionArgs, result: unknown): Promise<{ errors: GraphQLFormattedError[] } | void>;
}

/** Hooks an app may give; Rampart's call them when it does not refuse. */
type GivenHooks = { readonly [K in keyof GraphqlWsHooks]?: (...args: Parameters<GraphqlWsHooks[K]>) => unknown };

/**
 * graphql-ws server options for Apollo's `subscriptions: { 'graphql-ws': ... }`: each connection is
 * counted at `connection_init` (refused: closed with 4429); each subscription is checked like an
 * operation before it runs (document length, depth, complexity; the schema is learnt from
 * `apolloPlugin`, which must be installed too); each event is counted against the subscription
 * resolver's rules (refused: the event is replaced by the error).
 */
export function graphqlWsHooks<O extends object>(limits: GraphqlLimits, subscriptions: SubscriptionLimits, given: O & GivenHooks): O & GraphqlWsHooks {
  return {
    ...given,
    async onConnect(ctx) {
      const { request, socket } = (ctx.extra ?? {}) as { request?: unknown; socket?: ClosableSocket };
      if (!(await subscriptions.connect(request, ctx.connectionParams, socket))) return false;
      return given.onConnect?.(ctx) as Promise<boolean | Record<string, unknown> | void>;
    },
    async onSubscribe(ctx, id, payload) {
      const own = (await given.onSubscribe?.(ctx, id, payload)) as ExecutionArgs | readonly GraphQLError[] | undefined | void;
      if (Array.isArray(own)) return own;
      if (own) {
        // The app's own execution arguments (a persisted query, a context of its own) are measured too.
        const args = own as ExecutionArgs;
        const check = limits.checkOperation(args.schema, args.document, args.operationName ?? undefined, args.variableValues ?? undefined);
        return check.refusal ? [graphqlError(check.refusal)] : args;
      }
      const { schema } = limits;
      // Without the schema (the driver's plugin or hooks not installed), nothing is let through unmeasured.
      if (schema === undefined) return [new GraphQLError('The GraphQL server is not ready: try again.', { extensions: { code: 'UNAVAILABLE' } })];
      const tooLarge = limits.checkSource(payload.query);
      if (tooLarge) return [graphqlError(tooLarge)];
      let document;
      try {
        document = parse(payload.query);
      } catch (error) {
        return [error instanceof GraphQLError ? error : new GraphQLError('Syntax Error: the document cannot be parsed.')];
      }
      const errors = validate(schema, document);
      if (errors.length > 0) return errors;
      const check = limits.checkOperation(schema, document, payload.operationName, payload.variables);
      if (check.refusal) return [graphqlError(check.refusal)];
      return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
    },
    async onNext(ctx, id, payload, args, result) {
      const refused = await subscriptions.event(args.contextValue);
      if (refused) return { errors: [refused.toJSON()] };
      return given.onNext?.(ctx, id, payload, args, result) as Promise<{ errors: GraphQLFormattedError[] } | void>;
    },
  };
}
