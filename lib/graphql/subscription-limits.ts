import type { ExecutionContext } from '@nestjs/common';
import { isThenable } from '../core/thenable.js';
import { StoreKeys } from '../engine/store-keys.js';
import * as messages from '../errors/messages.js';
import type { Verdict } from '../engine/verdict.js';
import type { GraphQLError } from 'graphql';
import { hookContext, type GraphqlLimits } from './graphql-limits.js';
import { graphqlError, unidentifiedRefusal, verdictRefusal, type Refusal } from './graphql-rate-limit-error.js';
import { whenUnidentified } from '../errors/identity.error.js';
import { CONNECTION_TARGET } from './rampart-graphql-options.js';
import { subscriptionRegistry, type SubscriptionRegistry } from './subscription-registry.js';

/**
 * The close code of a subscription connection Rampart refuses (graphql-ws, either driver): 4429,
 * "too many requests" in graphql-ws's range of HTTP-like codes. graphql-ws's client treats it as
 * fatal and does not reconnect by itself. The reason is the refusal's code and message
 * (`RATE_LIMITED: Rate limit 'default' exceeded...`), cut to the 123 bytes a close frame holds.
 */
export const CONNECTION_REFUSED_CLOSE_CODE = 4429;

/**
 * The close code of a subscription connection whose client could not be identified (a key or group
 * resolver threw an `IdentityError`: an invalid token): 4401, graphql-ws's "Unauthorized". The
 * reason is `UNAUTHENTICATED: <the error's message>`.
 */
export const CONNECTION_UNAUTHENTICATED_CLOSE_CODE = 4401;

/** A socket Rampart can close: `ws`'s WebSocket. */
export interface ClosableSocket {
  readonly readyState?: number;
  close(code?: number, reason?: string): unknown;
  once?(event: 'close', listener: () => void): unknown;
}

/** What the slots of each client's open connections are leased under. */
const CONNECTION_POOL = StoreKeys.prefix('connections', CONNECTION_TARGET);

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
   * Decides a new connection from its upgrade request: the connection rules (and the client's bans),
   * then, with `maxConnectionsPerClient`, a lease on one of the client's slots, given back when the
   * socket closes. Closes `socket` with 4429 and resolves false when refused. `connectionParams`
   * (the `connection_init` payload, on graphql-ws) reaches the key resolver as the GraphQL
   * context's `connectionParams`, beside `req`, the upgrade request.
   */
  async connect(request: unknown, connectionParams: unknown, socket: ClosableSocket | undefined): Promise<boolean> {
    return whenUnidentified(
      () => this.admit(request, connectionParams, socket),
      (error) => closeRefused(socket, unidentifiedRefusal(error)),
    );
  }

  private async admit(request: unknown, connectionParams: unknown, socket: ClosableSocket | undefined): Promise<boolean> {
    const { rampart, config } = this.limits;
    const { engine } = rampart;
    const address = this.limits.clientAddress(request);
    const context = hookContext({ req: request, connectionParams });
    const verdict = await engine.decide({ target: config.connectionRules ?? CONNECTION_TARGET, address, method: 'connect', protocol: 'graphql-ws', context });
    const refusal = verdictRefusal(verdict, rampart.config.errorMessage);
    if (refusal) return closeRefused(socket, refusal);
    const max = config.maxConnectionsPerClient;
    if (max === undefined) return true;
    const { clientKey } = engine.clientKeys(address, await engine.identity.identify(context, address));
    const lease = await rampart.leases.acquire(CONNECTION_POOL + clientKey, max, config.connectionsOnStoreError);
    if (lease.status === 'granted') {
      whenClosed(socket, lease.release);
      return true;
    }
    return closeRefused(
      socket,
      lease.status === 'refused'
        ? { message: messages.tooManySubscriptionConnections(max), status: 429, extensions: { code: 'TOO_MANY_CONNECTIONS', limit: max, actual: lease.held } }
        : { message: messages.storeUnavailableDetail(), status: 503, extensions: { code: 'UNAVAILABLE', retryAfterSeconds: 1 } },
    );
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

/** Closes a refused connection with 4429 (4401 for a client that could not be identified) and its reason; false. */
function closeRefused(socket: ClosableSocket | undefined, refusal: Refusal): false {
  try {
    const code = refusal.extensions.code === 'UNAUTHENTICATED' ? CONNECTION_UNAUTHENTICATED_CLOSE_CODE : CONNECTION_REFUSED_CLOSE_CODE;
    socket?.close(code, closeReason(`${refusal.extensions.code}: ${refusal.message}`));
  } catch {
    // Already closed.
  }
  return false;
}

/** Calls `listener` once the socket is closed (at once when it already is, or cannot tell). */
function whenClosed(socket: ClosableSocket | undefined, listener: () => void): void {
  if (socket === undefined || typeof socket.once !== 'function' || (socket.readyState ?? 3) >= 2) listener();
  else socket.once('close', listener);
}

/** Text cut to the 123 bytes of UTF-8 a close frame's reason may hold. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}
