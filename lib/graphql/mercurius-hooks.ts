import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { GraphqlLimits } from './graphql-limits.js';
import { operationResponse } from './graphql-exchange.js';
import { unidentifiedRefusal, verdictRefusal, type Refusal } from './graphql-rate-limit-error.js';
import { whenUnidentified } from '../errors/identity.error.js';
import type { ClosableSocket, SubscriptionLimits } from './subscription-limits.js';
import { setHeader } from '../http-exchange.js';

/** What the hooks read of Mercurius's context: the reply (HTTP) and the upgrade request (subscriptions). */
interface MercuriusContext {
  readonly reply?: { readonly request?: { readonly body?: unknown; readonly query?: unknown } };
  readonly request?: unknown;
}

/** Mercurius hooks, for the driver's `hooks` option. */
export interface RampartMercuriusHooks {
  preParsing(schema: GraphQLSchema, source: string, context: MercuriusContext): Promise<void>;
  preExecution(schema: GraphQLSchema, document: DocumentNode, context: MercuriusContext, variables?: Record<string, unknown>): Promise<void>;
  preSubscriptionExecution(schema: GraphQLSchema, document: DocumentNode, context: MercuriusContext, id: string | number): Promise<void>;
  onSubscriptionResolution(execution: { data?: unknown; errors?: unknown }, context: MercuriusContext, id: string | number): Promise<void>;
  onSubscriptionEnd(context: MercuriusContext, id: string | number): Promise<void>;
}

/**
 * The hooks: a document longer than `maxDocumentLength` refused before it is parsed; an operation too
 * deep or too complex refused before it runs (HTTP 400), or one the client's complexity budget
 * cannot pay for (HTTP 429); each subscription event counted against its resolver's rules (refused:
 * its data replaced by the error).
 */
export function mercuriusHooks(limits: GraphqlLimits, subscriptions: SubscriptionLimits): RampartMercuriusHooks {
  return {
    async preParsing(_schema, source) {
      const refusal = limits.checkSource(source);
      if (refusal) throw mercuriusError(refusal);
    },
    async preExecution(schema, document, context, variables) {
      const check = limits.checkOperation(schema, document, operationNameOf(context), variables);
      if (check.refusal) throw mercuriusError(check.refusal);
      const verdict = await whenUnidentified(
        () => limits.charge(check.complexity, check.kind, context),
        (error) => {
          throw mercuriusError(unidentifiedRefusal(error));
        },
      );
      if (verdict === undefined) return;
      const response = operationResponse(context);
      if (response !== undefined) limits.rampart.headers.write(verdict, response, setHeader);
      const refusal = verdictRefusal(verdict, limits.rampart.config.errorMessage);
      if (refusal) throw mercuriusError(refusal);
    },
    async preSubscriptionExecution(schema, document) {
      // Mercurius hands subscription hooks no variables: a multiplier given by one counts by its default.
      const check = limits.checkOperation(schema, document, undefined, undefined);
      if (check.refusal) throw mercuriusError(check.refusal);
    },
    async onSubscriptionResolution(execution, context, id) {
      const refused = await subscriptions.event(context.request, String(id));
      if (refused === undefined) return;
      execution.data = null;
      execution.errors = [refused];
    },
    async onSubscriptionEnd(context, id) {
      subscriptions.end(context.request, String(id));
    },
  };
}

/**
 * Mercurius subscription options (its `subscription`): each connection counted at its
 * `connection_init` (refused: closed with 4429), before the app's own `context` (which Rampart calls).
 */
export function mercuriusSubscription<O extends object>(
  subscriptions: SubscriptionLimits,
  given: O & { context?: (socket: never, request: never) => unknown },
): O & { context(socket: ClosableSocket, request: unknown): Promise<unknown> } {
  return {
    ...given,
    async context(socket: ClosableSocket, request: unknown) {
      // The payload of `connection_init` is not handed to this hook: the key resolver sees the request.
      if (!(await subscriptions.connect(request, undefined, socket))) return {};
      return (given.context as ((s: ClosableSocket, r: unknown) => unknown) | undefined)?.(socket, request) ?? {};
    },
  };
}

/** The operation name of a Mercurius request: its body's (POST) or its query string's (GET). */
function operationNameOf(context: MercuriusContext): string | undefined {
  const request = context.reply?.request;
  const name =
    (request?.body as { operationName?: unknown } | undefined)?.operationName ?? (request?.query as { operationName?: unknown } | undefined)?.operationName;
  return typeof name === 'string' ? name : undefined;
}

/** A refusal as Mercurius answers it: an error whose `statusCode` becomes the response's status. */
function mercuriusError(refusal: Refusal): Error {
  return Object.assign(new Error(refusal.message), { extensions: { ...refusal.extensions }, statusCode: refusal.status });
}
