import type { ExecutionContext, Type } from '@nestjs/common';
import type { Rampart } from './engine/rampart.js';
import type { StoreKeyHook } from './engine/rampart-request.js';
import type { TargetRules } from './engine/target-rules.js';
import type { RouteRulesResolver } from './route-rules.resolver.js';

type Handler = (...args: unknown[]) => unknown;

/** The protocols other than HTTP the guard limits, by `ExecutionContext.getType()`. */
export type ProtocolName = 'ws' | 'graphql' | 'rpc';

/** A protocol's adapter: decides one call of a handler under its rules and answers in the protocol's terms. */
export interface ProtocolLimiter {
  activate(context: ExecutionContext, rules: TargetRules<ExecutionContext>, storeKey: StoreKeyHook<ExecutionContext>): boolean | Promise<boolean>;
}

/**
 * The guard's adapters for WebSocket gateways, GraphQL resolvers and microservice handlers, each
 * loaded on the first context of its type, so that an app without that protocol never loads its
 * packages (`@nestjs/websockets`, `@nestjs/graphql`, `@nestjs/microservices`).
 */
export class ProtocolAdapters {
  private readonly loaded: Partial<Record<ProtocolName, ProtocolLimiter>> = {};
  private readonly loading: Partial<Record<ProtocolName, Promise<ProtocolLimiter>>> = {};

  constructor(
    private readonly rampart: Rampart<ExecutionContext>,
    private readonly routeRules: RouteRulesResolver,
  ) {}

  /**
   * The rules of the handler a context of `type` calls; undefined for a context Rampart does not
   * limit (a class that is no gateway or resolver, a handler that is no microservice pattern, another
   * context type).
   */
  rulesOf(type: string, context: ExecutionContext): TargetRules<ExecutionContext> | undefined {
    const handler = context.getHandler() as Handler;
    const owner = context.getClass() as Type;
    const limited =
      type === 'ws'
        ? this.routeRules.isGateway(owner)
        : type === 'graphql'
          ? this.routeRules.isResolver(owner)
          : type === 'rpc' && this.routeRules.microserviceHandler(handler) !== undefined;
    return limited ? this.routeRules.resolve(handler, owner) : undefined;
  }

  /** The adapter of `type`, or the promise of it while it loads. */
  limiter(type: ProtocolName): ProtocolLimiter | Promise<ProtocolLimiter> {
    return this.loaded[type] ?? (this.loading[type] ??= this.load(type).then((limiter) => (this.loaded[type] = limiter)));
  }

  private async load(type: ProtocolName): Promise<ProtocolLimiter> {
    switch (type) {
      case 'ws': {
        const { WsMessageLimiter } = await import('./ws/ws-message-limiter.js');
        return new WsMessageLimiter(this.rampart);
      }
      case 'graphql': {
        const { GraphqlFieldLimiter } = await import('./graphql/graphql-field-limiter.js');
        return new GraphqlFieldLimiter(this.rampart);
      }
      case 'rpc': {
        const { RpcLimiter } = await import('./rpc/rpc-limiter.js');
        const limiter = new RpcLimiter(this.rampart);
        return {
          activate: (context, rules, storeKey) =>
            limiter.activate(context, rules, storeKey, this.routeRules.microserviceHandler(context.getHandler() as Handler) ?? 'message'),
        };
      }
    }
  }
}
