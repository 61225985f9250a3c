import type { ExecutionContext } from '@nestjs/common';
import { operationRequest } from '../graphql/graphql-exchange.js';
import { upgradeRequestOf } from '../ws/ws-client.js';

/**
 * The HTTP request behind a context, where the identity helpers read headers and the session: a
 * route's request (Express or Fastify); a GraphQL operation's HTTP request, or the upgrade request
 * of a subscription; the upgrade request of a WebSocket connection, for its handshake and each of
 * its messages. Undefined where there is none (a microservice call): the client is then known by
 * its address alone.
 */
export function identityRequest(context: unknown): object | undefined {
  const host = context as Partial<Pick<ExecutionContext, 'getType' | 'getArgByIndex'>> | null | undefined;
  if (typeof host?.getType !== 'function' || typeof host.getArgByIndex !== 'function') return undefined;
  const type = host.getType<string>();
  const request =
    type === 'http'
      ? host.getArgByIndex(0)
      : type === 'graphql'
        ? operationRequest(host.getArgByIndex(2))
        : type === 'ws'
          ? upgradeRequestOf(host.getArgByIndex(0))
          : undefined;
  return typeof request === 'object' && request !== null ? request : undefined;
}

/** Helpers' resolvers, to spread into the module's options: `RateLimitModule.forRoot({ ...jwtIdentity({...}), rules })`. */
export interface IdentityResolvers {
  /** The client's identity (a user id), or undefined for its address. */
  readonly keyResolver: (context: unknown, address: string | null) => string | undefined | Promise<string | undefined>;
  /** The client's group, or undefined for the `default` group. */
  readonly groupResolver: (context: unknown, address: string | null) => string | undefined | Promise<string | undefined>;
}
