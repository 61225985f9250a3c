import type { ExecutionContext } from '@nestjs/common';
import { isThenable } from '../core/thenable.js';
import type { Verdict } from '../engine/verdict.js';
import type { GraphQLError } from 'graphql';
import { hookContext, type GraphqlLimits } from './graphql-limits.js';
import { graphqlError, verdictRefusal, type Refusal } from './graphql-rate-limit-error.js';
import { CONNECTION_TARGET } from './rampart-graphql-options.js';
import { subscriptionRegistry, type SubscriptionRegistry } from './subscription-registry.js';

/**
 * The close code of a subscription connection Rampart refuses (graphql-ws, either driver): 4429,
 * "too many requests" in graphql-ws's range of HTTP-like codes. graphql-ws's client treats it as
 * fatal and does not reconnect by itself. The reason is the refusal's code and message
 * (`RATE_LIMITED: Rate limit 'default' exceeded...`), cut to the 123 bytes a close frame holds.
 */
export const CONNECTION_REFUSED_CLOSE_CODE = 4429;

/** A socket Rampart can close: `ws`'s WebSocket. */
export interface ClosableSocket {
  close(code?: number, reason?: string): unknown;
}

/**
 * Subscriptions' limits: each new connection is counted against the connection rules at its
 * `connection_init` (refused: closed with 4429), and each event of a subscription the guard
 * admitted against the subscription resolver's rules (refused: the event is replaced by the error).
 */
export class SubscriptionLimits {
  private readonly registry: SubscriptionRegistry;

  constructor(private readonly limits: GraphqlLimits) {
    this.registry = subscriptionRegistry(limits.rampart);
  }

  /**
   * Decides a new connection from its upgrade request; closes `socket` with 4429 and resolves false
   * when refused. `connectionParams` (the `connection_init` payload) reaches the key resolver as
   * the GraphQL context's `connectionParams`, beside `req`, the upgrade request.
   */
  connect(request: unknown, connectionParams: unknown, socket: ClosableSocket | undefined): boolean | Promise<boolean> {
    const { engine } = this.limits.rampart;
    const verdict = engine.decide({
      target: this.limits.config.connectionRules ?? CONNECTION_TARGET,
      address: this.limits.clientAddress(request),
      method: 'connect',
      protocol: 'graphql-ws',
      context: hookContext({ req: request, connectionParams }),
    });
    const answer = (v: Verdict<ExecutionContext>): boolean => {
      const refusal = verdictRefusal(v, this.limits.rampart.config.errorMessage);
      if (refusal === undefined) return true;
      closeRefused(socket, refusal);
      return false;
    };
    return isThenable(verdict) ? Promise.resolve(verdict).then(answer) : answer(verdict);
  }

  /** Counts one event of a subscription; the error that replaces it when refused, undefined when admitted or unknown. */
  event(owner: unknown, id?: string): GraphQLError | undefined | Promise<GraphQLError | undefined> {
    const entry = this.registry.find(owner, id);
    if (entry === undefined) return undefined;
    const verdict = this.limits.rampart.engine.decide({
      target: entry.rules,
      address: entry.address,
      identity: entry.identity,
      method: 'subscription',
      protocol: 'graphql-ws',
      context: entry.context,
      storeKey: entry.storeKey,
      skipChecked: true,
    });
    const answer = (v: Verdict<ExecutionContext>) => {
      const refusal = verdictRefusal(v, this.limits.rampart.config.errorMessage);
      return refusal === undefined ? undefined : graphqlError(refusal);
    };
    return isThenable(verdict) ? Promise.resolve(verdict).then(answer) : answer(verdict);
  }

  /** Forgets a subscription that ended. */
  end(owner: unknown, id?: string): void {
    this.registry.forget(owner, id);
  }
}

function closeRefused(socket: ClosableSocket | undefined, refusal: Refusal): void {
  try {
    socket?.close(CONNECTION_REFUSED_CLOSE_CODE, closeReason(`${refusal.extensions.code}: ${refusal.message}`));
  } catch {
    // Already closed.
  }
}

/** Text cut to the 123 bytes of UTF-8 a close frame's reason may hold. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
