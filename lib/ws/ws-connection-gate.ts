import type { ExecutionContext } from '@nestjs/common';
import type { PeerSocket } from '../core/ip/connection-peers.js';
import type { Rampart } from '../engine/rampart.js';
import { targetRules, type TargetRules } from '../engine/target-rules.js';
import { identityRefusal } from '../engine/verdict-refusal.js';
import { isIdentityError } from '../errors/identity.error.js';
import * as messages from '../errors/messages.js';
import { HandshakeContext } from './handshake-context.js';
import { clientPeer, isClosed, isSocketIo, onClientClose, type WsClient } from './ws-client.js';
import type { WsConnectionConfig } from './ws-connection-options.js';
import { wsConnectionsOf, type WsConnections } from './ws-connections.js';
import { wsRateLimitError, type WsRateLimitError } from './ws-rate-limit-error.js';

/** What the connection rules count per: `<rule>:WebSocket connection:<client>`. */
export const CONNECTION_TARGET = 'WebSocket connection';

/** The upgrade request of a `ws` connection, as far as the gate reads it. */
export interface UpgradeRequest {
  readonly socket?: PeerSocket;
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Decides each WebSocket handshake before a gateway sees the connection: the client's bans, blocks
 * and allow/deny lists, the `connectionRate` rule, and its open connections against `maxConnections`
 * (a lease per connection, given back when it closes). An admitted connection is registered, so
 * that a block or ban closes it even before its first message.
 */
export class WsConnectionGate {
  private readonly connections: WsConnections;
  private readonly target: TargetRules<ExecutionContext>;

  constructor(
    private readonly rampart: Rampart<ExecutionContext>,
    private readonly limits: WsConnectionConfig,
  ) {
    this.connections = wsConnectionsOf(rampart);
    this.target = targetRules(CONNECTION_TARGET, limits.connectionRate ? [limits.connectionRate] : []);
  }

  /** Resolves with the error to refuse the handshake with, or undefined to admit it. Never rejects. */
  async admit(client: WsClient, request: UpgradeRequest | undefined): Promise<WsRateLimitError | undefined> {
    try {
      return await this.decide(client, request);
    } catch (error) {
      // A client that could not be identified (an invalid token): refused, as the client's own fault.
      if (isIdentityError(error)) return identityRefusal(error);
      // A hook that throws (keyResolver, skipIf) on a handshake it cannot read: refused, never waved through.
      this.rampart.config.logger.error(messages.handshakeCheckFailed(error));
      return { status: 'error', code: 'UNAVAILABLE', retryAfterSeconds: 1, message: messages.handshakeUnchecked() };
    }
  }

  private async decide(client: WsClient, request: UpgradeRequest | undefined): Promise<WsRateLimitError | undefined> {
    const { engine, config } = this.rampart;
    const context = new HandshakeContext(client, request);
    if (config.skipIf && (await config.skipIf(context))) return undefined;
    const { identity } = engine;
    const address = isSocketIo(client)
      ? identity.clientAddress(
          clientPeer(client, () => undefined),
          client.handshake.headers ?? {},
        )
      : // The headers the module remembered of the upgrade (the app's own server), as for messages: a
        // gateway on a port of its own is known by its peer alone.
        identity.clientAddress(identity.peerAddress(request?.socket), identity.peers.upgradeHeaders(request?.socket) ?? {});
    const id = await identity.identify(context, address, this.target.rules.length > 0 || this.limits.maxConnections !== undefined);
    const verdict = await engine.decide({ target: this.target, address, identity: id, method: 'CONNECT', protocol: 'ws', context, skipChecked: true });
    const refused = wsRateLimitError(verdict, config.errorMessage);
    if (refused) return refused;
    const keys = engine.clientKeys(address, id);
    const { maxConnections } = this.limits;
    if (maxConnections !== undefined) {
      const lease = await this.rampart.leases.acquire(`ws-connections:${keys.clientKey}`, maxConnections, this.limits.onStoreError);
      if (lease.status === 'refused') return { status: 'error', code: 'TOO_MANY_CONNECTIONS', message: messages.tooManyConnections(maxConnections) };
      if (lease.status === 'unavailable') return { status: 'error', code: 'UNAVAILABLE', retryAfterSeconds: 1, message: messages.storeUnavailableDetail() };
      // A client gone while it was decided has closed already: its slot is given back at once.
      if (isClosed(client)) {
        lease.release();
        return undefined;
      }
      onClientClose(client, lease.release);
    }
    if (isClosed(client)) return undefined;
    this.connections.add(client, keys.address, [keys.addressKey, keys.clientKey]);
    return undefined;
  }
}
