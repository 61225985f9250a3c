import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { whenUnidentified } from '../errors/identity.error.js';
import type { GraphqlLimits } from './graphql-limits.js';
import { unidentifiedRefusal, verdictRefusal, type Refusal } from './graphql-rate-limit-error.js';

/** What the plugin reads of Apollo's request (a structural subset of `GraphQLRequest`). */
interface ApolloRequest {
  query?: string;
  readonly operationName?: string | null;
  readonly variables?: unknown;
}

/** What the plugin reads of Apollo's request context (a structural subset of `GraphQLRequestContext`). */
interface ApolloRequestContext {
  readonly request: ApolloRequest;
  readonly document?: DocumentNode;
  readonly schema: GraphQLSchema;
  readonly contextValue: unknown;
  readonly response: { body?: unknown; readonly http: { status?: number; readonly headers: Map<string, string> } };
}

/** What the plugin does in one request (a structural `GraphQLRequestListener`). */
export interface RequestListener {
  didResolveOperation?(requestContext: ApolloRequestContext): Promise<void>;
  willSendResponse?(requestContext: ApolloRequestContext): Promise<void>;
}

/** Rampart's Apollo Server plugin: a structural `ApolloServerPlugin`, to put in the driver's `plugins`. */
export interface RampartApolloPlugin {
  serverWillStart(service: { readonly schema: GraphQLSchema }): Promise<void>;
  requestDidStart(requestContext: ApolloRequestContext): Promise<RequestListener>;
}

/** Headers Apollo merges into the response (the names in lower case, as its `HeaderMap` keeps them). */
const setHeader = (headers: Map<string, string>, name: string, value: string) => headers.set(name.toLowerCase(), value);

/**
 * The plugin: refuses a document too long or too nested before it is parsed, then, once the
 * operation is known and valid, one too deep or too complex (HTTP 400), or one the client's
 * complexity budget cannot pay for (HTTP 429, `Retry-After`); the budget's `RateLimit` headers go
 * on the response.
 */
export function apolloPlugin(limits: GraphqlLimits): RampartApolloPlugin {
  // One listener for every request: Apollo asks each hook of it, so it holds only the one needed.
  const checks: RequestListener = {
    async didResolveOperation({ schema, document, request: { operationName, variables }, contextValue, response }) {
      if (document === undefined) return;
      const check = limits.checkOperation(schema, document, operationName, variables);
      if (check.refusal) throw apolloError(check.refusal);
      const verdict = await whenUnidentified(
        () => limits.charge(check.complexity, check.kind, contextValue),
        (error) => {
          throw apolloError(unidentifiedRefusal(error));
        },
      );
      if (verdict === undefined) return;
      const refusal = verdictRefusal(verdict, limits.rampart.config.errorMessage);
      const headers = refusal ? new Map<string, string>() : response.http.headers;
      limits.rampart.headers.write(verdict, headers, setHeader);
      if (refusal) throw apolloError(refusal, headers);
    },
  };
  return {
    async serverWillStart({ schema }) {
      limits.schema = schema;
    },
    async requestDidStart({ request }) {
      const early = limits.checkSource(request.query);
      if (early === undefined) return checks;
      // Apollo answers an error thrown before parsing with a 500: the query is taken away instead
      // (Apollo then refuses the request without parsing anything), and the answer replaced.
      request.query = undefined;
      return {
        async willSendResponse({ response }) {
          response.body = { kind: 'single', singleResult: { errors: [{ message: early.message, extensions: { ...early.extensions } }] } };
          response.http.status = early.status;
        },
      };
    },
  };
}

/** A refusal as Apollo answers it: the error, with the HTTP status and headers it sets on the response. */
function apolloError(refusal: Refusal, headers = new Map<string, string>()): GraphQLError {
  return new GraphQLError(refusal.message, { extensions: { ...refusal.extensions, http: { status: refusal.status, headers } } });
}
