import type { ExecutionContext } from '@nestjs/common';
import { isPositiveInteger, resolveRule, STORE_ERROR_POLICIES, type ResolvedRule } from '../engine/rule-resolution.js';
import type { RateLimitRule, StoreErrorPolicy } from '../engine/rule.interface.js';
import * as messages from '../errors/messages.js';

/**
 * Limits on the WebSocket connections of each client, on every gateway of the app (the `ws` and
 * socket.io adapters), checked at the handshake before the gateway sees the connection. Bans,
 * blocks and the allow/deny lists apply at the handshake whether or not these are set.
 *
 * @example
 * RateLimitModule.forRoot({ websockets: { maxConnections: 5, connectionRate: { limit: 20, windowMs: 60_000 } } })
 */
export interface WsConnectionLimits {
  /**
   * Most open connections per client (its identity: the `keyResolver`'s answer for the handshake, else
   * its address), counted across every instance of the app through the storage's leases. A
   * connection's slot comes free when it closes, or at most `leaseMs` after its instance died.
   * Enforced in the module's shadow mode too: a slot is not a count that can be reported instead.
   */
  maxConnections?: number;
  /**
   * New connections per client per window: a rule, counted at each handshake (its `name` defaults to
   * `ws-connections`). Refusals are violations, and escalate like any other.
   */
  connectionRate?: RateLimitRule<ExecutionContext>;
  /**
   * Messages per client per window on every gateway: a rule counted on each `@SubscribeMessage`
   * handler's messages besides the handler's own rules, one pool per client across the handlers
   * (its `name` defaults to `ws-messages`; seed name: `WS_MESSAGE_RATE_LIMIT`).
   */
  messageRate?: RateLimitRule<ExecutionContext>;
  /**
   * While the storage is down: `deny` refuses new connections (fail closed), `allow` admits them
   * uncounted. Messages on open connections follow their rules' own `onStoreError`.
   * @default 'deny'
   */
  onStoreError?: StoreErrorPolicy;
}

/** `WsConnectionLimits`, checked. */
export interface WsConnectionConfig {
  readonly maxConnections?: number;
  readonly connectionRate?: ResolvedRule<ExecutionContext>;
  readonly messageRate?: ResolvedRule<ExecutionContext>;
  readonly onStoreError: StoreErrorPolicy;
}

const FIELDS = ['maxConnections', 'connectionRate', 'messageRate', 'onStoreError'];

/** The `websockets` option checked; its problems appended to `problems`. */
export function checkWsConnectionLimits(given: unknown, problems: string[]): WsConnectionConfig {
  if (given === undefined) return { onStoreError: 'deny' };
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    problems.push(messages.badWebsocketsOption(given));
    return { onStoreError: 'deny' };
  }
  const limits = given as WsConnectionLimits;
  for (const field of Object.keys(limits)) if (!FIELDS.includes(field)) problems.push(messages.unknownWebsocketsField(field, FIELDS));
  const onStoreError = limits.onStoreError ?? 'deny';
  const validPolicy = STORE_ERROR_POLICIES.includes(onStoreError);
  if (!validPolicy) problems.push(messages.badStoreErrorPolicy('websockets.onStoreError', onStoreError));
  const { maxConnections, connectionRate } = limits;
  if (maxConnections !== undefined && !isPositiveInteger(maxConnections))
    problems.push(messages.notPositiveInteger('websockets.maxConnections', maxConnections));
  let rate: ResolvedRule<ExecutionContext> | undefined;
  if (connectionRate !== undefined) {
    if (typeof connectionRate !== 'object' || connectionRate === null) problems.push(messages.badConnectionRate(connectionRate));
    else {
      const inherited = validPolicy ? { onStoreError } : {};
      rate = resolveRule({ ...inherited, ...connectionRate, name: connectionRate.name ?? 'ws-connections' }, 'websockets.connectionRate', problems);
    }
  }
  const { messageRate } = limits;
  let messageRule: ResolvedRule<ExecutionContext> | undefined;
  if (messageRate !== undefined) {
    if (typeof messageRate !== 'object' || messageRate === null) problems.push(messages.badConnectionRate(messageRate, 'messageRate'));
    else
      messageRule = resolveRule(
        { ...messageRate, name: messageRate.name ?? 'ws-messages', scope: messageRate.scope ?? 'ws-messages' },
        'websockets.messageRate',
        problems,
      );
  }
  return Object.freeze({
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    ...(rate ? { connectionRate: rate } : {}),
    ...(messageRule ? { messageRate: messageRule } : {}),
    onStoreError,
  });
}
