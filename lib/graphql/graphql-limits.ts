import type { ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { DocumentNode, GraphQLField, GraphQLNamedType, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { Kind } from 'graphql';
import type { Rampart } from '../engine/rampart.js';
import type { Verdict } from '../engine/verdict.js';
import * as messages from '../errors/messages.js';
import { peerSocket, requestHeaders } from '../http-exchange.js';
import { COST_EXTENSION } from './cost.decorator.js';
import { operationRequest } from './graphql-exchange.js';
import type { Refusal } from './graphql-rate-limit-error.js';
import { operationCost, selectOperation, type FieldCost } from './operation-cost.js';
import { fieldCost, type GraphqlLimitsConfig } from './rampart-graphql-options.js';

/** What the checks before execution found: a refusal, or the operation's complexity. */
export type OperationCheck = { readonly refusal: Refusal } | { readonly refusal?: undefined; readonly complexity: number; readonly kind: string };

/**
 * The limits on operations before they run, shared by the drivers' hooks: the document's length,
 * the operation's depth and complexity, and the client's complexity budget.
 */
export class GraphqlLimits {
  /** The schema, once a driver hook has seen it (graphql-ws's `onSubscribe` is given none). */
  schema: GraphQLSchema | undefined;
  private readonly costs = new WeakMap<GraphQLField<unknown, unknown>, FieldCost>();

  constructor(
    readonly rampart: Rampart<ExecutionContext>,
    readonly config: GraphqlLimitsConfig,
  ) {}

  /**
   * Refuses, before it is parsed, a document longer than `maxDocumentLength`, or one nesting
   * braces, brackets or parentheses deeper than 4 × `maxDepth` (or `maxIntrospectionDepth`, when
   * deeper; at least 32): graphql-js's parser
   * recurses on each level, and a few thousand would exhaust its stack.
   */
  checkSource(source: unknown): Refusal | undefined {
    if (typeof source !== 'string') return undefined;
    const { maxDocumentLength, maxDepth } = this.config;
    if (source.length > maxDocumentLength) {
      return {
        message: messages.documentTooLarge(source.length, maxDocumentLength),
        status: 400,
        extensions: { code: 'QUERY_TOO_LARGE', limit: maxDocumentLength, actual: source.length },
      };
    }
    const maxNesting = Math.max(32, 4 * Math.max(maxDepth, this.config.maxIntrospectionDepth));
    const nesting = nestingOf(source, maxNesting);
    if (nesting <= maxNesting) return undefined;
    return { message: messages.documentTooNested(maxNesting), status: 400, extensions: { code: 'QUERY_TOO_DEEP', limit: maxNesting, actual: nesting } };
  }

  /**
   * The depth and complexity of the operation to run (every operation of the document when the
   * request names none among several: the most complex counts), refused beyond `maxDepth` or
   * `maxComplexity`.
   */
  checkOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: unknown): OperationCheck {
    this.schema ??= schema;
    const { maxDepth, maxComplexity } = this.config;
    const { operation, fragments } = selectOperation(document, operationName);
    const operations = operation
      ? [operation]
      : document.definitions.filter(
          (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
        );
    let complexity = 0;
    for (const op of operations) {
      const cost = operationCost(op, {
        schema,
        fragments,
        variables: variables as Record<string, unknown> | undefined,
        maxDepth,
        maxIntrospectionDepth: this.config.maxIntrospectionDepth,
        costOf: (parent, field) => this.costOf(parent, field),
        unknownCost: this.config.defaultFieldCost,
      });
      if (cost.tooDeep) {
        const limit = cost.limit ?? maxDepth;
        return { refusal: { message: messages.operationTooDeep(limit), status: 400, extensions: { code: 'QUERY_TOO_DEEP', limit, actual: cost.depth } } };
      }
      complexity = Math.max(complexity, cost.complexity);
    }
    if (complexity > maxComplexity) {
      const actual = Math.min(Math.ceil(complexity), Number.MAX_SAFE_INTEGER);
      return {
        refusal: {
          message: messages.operationTooComplex(actual, maxComplexity),
          status: 400,
          extensions: { code: 'QUERY_TOO_COMPLEX', limit: maxComplexity, actual },
        },
      };
    }
    return { complexity, kind: operations[0]?.operation ?? 'query' };
  }

  /**
   * Counts the operation's complexity against the client's budget; undefined without a budget.
   * The client is the operation's HTTP request's, identified as the guard identifies it.
   */
  charge(complexity: number, kind: string, graphqlContext: unknown): Verdict<ExecutionContext> | Promise<Verdict<ExecutionContext>> | undefined {
    const { budget } = this.config;
    if (budget === undefined) return undefined;
    return this.rampart.engine.decide({
      target: budget,
      address: this.clientAddress(operationRequest(graphqlContext)),
      method: kind,
      protocol: 'graphql',
      cost: Math.max(1, Math.ceil(complexity)),
      context: hookContext(graphqlContext),
    });
  }

  /** The client address of an HTTP request (the peer, or what a trusted proxy forwarded); null without one. */
  clientAddress(request: unknown): string | null {
    if (typeof request !== 'object' || request === null) return null;
    const { identity } = this.rampart.engine;
    return identity.clientAddress(identity.peerAddress(peerSocket(request)), requestHeaders(request));
  }

  /** A field's cost: `fieldCosts`, else `@Cost`, else a numeric `complexity` extension, else `defaultFieldCost`. */
  private costOf(parent: GraphQLNamedType, field: GraphQLField<unknown, unknown>): FieldCost {
    const listed = this.config.fieldCosts.get(`${parent.name}.${field.name}`);
    if (listed) return listed;
    let cost = this.costs.get(field);
    if (cost === undefined) {
      const extensions = field.extensions as Record<string, unknown> | undefined;
      const own = extensions?.[COST_EXTENSION];
      const complexity = extensions?.['complexity'];
      cost = own !== undefined ? fieldCost(own, field.name) : typeof complexity === 'number' ? fieldCost(complexity, field.name) : this.config.defaultFieldCost;
      this.costs.set(field, cost);
    }
    return cost;
  }
}

/**
 * How deep a GraphQL document nests `{`, `[` and `(` (strings and comments left out), counted up to
 * `cap + 1`, in one pass over its text.
 */
export function nestingOf(source: string, cap: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x7b || c === 0x5b || c === 0x28) {
      if (++depth > deepest && (deepest = depth) > cap) return deepest;
    } else if (c === 0x7d || c === 0x5d || c === 0x29) depth = Math.max(0, depth - 1);
    else if (c === 0x23) {
      // A comment, to the end of the line.
      while (i < source.length && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22) {
      const block = source.startsWith('"""', i);
      const end = block ? source.indexOf('"""', i + 3) : stringEnd(source, i + 1);
      if (end < 0) return deepest;
      i = block ? end + 2 : end;
    }
  }
  return deepest;
}

/** Where a `"`-quoted string ending its escape sequences closes; -1 when it does not. */
function stringEnd(source: string, from: number): number {
  for (let i = from; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22 || c === 0x0a || c === 0x0d) return i;
  }
  return -1;
}

/**
 * The context the rules' hooks (`keyResolver`, `skipIf`) get outside a resolver call: a GraphQL
 * context (`GqlExecutionContext.create(context).getContext()` gives `graphqlContext`) with no
 * handler or class.
 */
export function hookContext(graphqlContext: unknown): ExecutionContext {
  const context = new ExecutionContextHost([undefined, {}, graphqlContext, undefined]);
  context.setType('graphql');
  return context;
}
