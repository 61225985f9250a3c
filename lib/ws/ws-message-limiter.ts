import type { ExecutionContext } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { isThenable } from '../core/thenable.js';
import type { Rampart } from '../engine/rampart.js';
import type { StoreKeyHook } from '../engine/rampart-request.js';
import type { TargetRules } from '../engine/target-rules.js';
import type { Verdict } from '../engine/verdict.js';
import { identityRefusal } from '../engine/verdict-refusal.js';
import { whenUnidentified } from '../errors/identity.error.js';
import { clientHeaders, clientPeer, isWsClient, type WsClient } from './ws-client.js';
import { wsConnectionsOf, type WsConnections } from './ws-connections.js';
import { wsRateLimitError } from './ws-rate-limit-error.js';

/**
 * The WebSocket adapter of Rampart's engine: counts each gateway message against its handler's
 * rules, refuses it with a `WsException` (the connection stays open), and closes the client's open
 * sockets when it is blocked or banned. Loaded by the guard on the first WebSocket message, so that
 * an app without gateways never loads `@nestjs/websockets`.
 */
export class WsMessageLimiter {
  readonly connections: WsConnections;
  /**
   * Each socket's address and identity once known, when they depend on its handshake alone (no
   * module `keyResolver`, which may read each message): a message is then decided without them
   * being worked out again.
   */
  private readonly clients = new WeakMap<object, { readonly address: string | null; readonly id: string }>();

  constructor(private readonly rampart: Rampart<ExecutionContext>) {
    this.connections = wsConnectionsOf(rampart);
  }

  /**
   * Decides one message; resolves true when it is admitted, rejects with a `WsException` when not
   * (`UNAUTHENTICATED` when a resolver threw an `IdentityError`: nothing was counted).
   */
  activate(context: ExecutionContext, rules: TargetRules<ExecutionContext>, storeKey: StoreKeyHook<ExecutionContext>): boolean | Promise<boolean> {
    return whenUnidentified(
      () => this.decide(context, rules, storeKey),
      (error) => {
        throw new WsException(identityRefusal(error));
      },
    );
  }

  private decide(context: ExecutionContext, rules: TargetRules<ExecutionContext>, storeKey: StoreKeyHook<ExecutionContext>): boolean | Promise<boolean> {
    const client = context.getArgByIndex<unknown>(0);
    const known = isWsClient(client) ? client : undefined;
    const byHandshake = known !== undefined && this.rampart.config.keyResolver === undefined;
    const cached = byHandshake ? this.clients.get(known) : undefined;
    if (cached !== undefined) return this.count(context, rules, storeKey, known, cached.address, cached.id);
    const { identity } = this.rampart.engine;
    const address = known
      ? identity.clientAddress(
          clientPeer(known, (socket) => identity.peerAddress(socket)),
          clientHeaders(known, (socket) => identity.peers.upgradeHeaders(socket)),
        )
      : null;
    const id = identity.identify(context, address, rules.rules.length > 0);
    if (byHandshake && !isThenable(id)) this.clients.set(known, { address, id });
    if (isThenable(id))
      return Promise.resolve(id).then((resolved) => {
        this.register(known, address, resolved);
        return this.count(context, rules, storeKey, known, address, resolved);
      });
    this.register(known, address, id);
    return this.count(context, rules, storeKey, known, address, id);
  }

  /** Remembers the client's socket under its keys, so that a block or ban closes it. */
  private register(client: WsClient | undefined, address: string | null, id: string): void {
    if (client === undefined) return;
    const keys = this.rampart.engine.clientKeys(address, id);
    this.connections.add(client, keys.address, [keys.addressKey, keys.clientKey]);
  }

  /** Counts the message of a client whose sockets are registered. */
  private count(
    context: ExecutionContext,
    rules: TargetRules<ExecutionContext>,
    storeKey: StoreKeyHook<ExecutionContext>,
    client: WsClient | undefined,
    address: string | null,
    id: string,
  ): boolean | Promise<boolean> {
    const verdict = this.rampart.engine.decide({ target: rules, address, identity: id, method: 'WS', protocol: 'ws', context, storeKey, skipChecked: true });
    if (isThenable(verdict)) return Promise.resolve(verdict).then((v) => this.answer(client, v));
    return this.answer(client, verdict);
  }

  private answer(client: WsClient | undefined, verdict: Verdict<ExecutionContext>): true {
    const error = wsRateLimitError(verdict, this.rampart.config.errorMessage);
    if (error === undefined) return true;
    // A blocked or banned client's sockets close (after the error); a limited one's stay open.
    if (client && (error.code === 'BLOCKED' || error.code === 'BANNED')) this.connections.close(client, error);
    throw new WsException(error);
  }
}
