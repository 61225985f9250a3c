import type { PeerSocket } from '../core/ip/connection-peers.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** What Rampart reads of a socket.io `Socket`. */
interface SocketIoClient {
  readonly handshake: { readonly address?: string; readonly headers?: Headers };
  readonly conn?: {
    readonly remoteAddress?: string;
    readonly readyState?: string;
    once?(event: 'close', listener: () => void): unknown;
    off?(event: 'close', listener: () => void): unknown;
  };
  emit(event: string, payload: unknown): unknown;
  disconnect(close?: boolean): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

/** What Rampart reads of a `ws` WebSocket: its connection is `_socket` (the package keeps no handshake). */
interface NativeClient {
  readonly readyState: number;
  readonly _socket?: PeerSocket;
  send(data: string): unknown;
  close(code?: number, reason?: string): unknown;
  terminate?(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/** A gateway's client on either adapter: a socket.io `Socket` or a `ws` WebSocket. */
export type WsClient = SocketIoClient | NativeClient;

/** A socket.io socket (it has a handshake); otherwise a native WebSocket, as Nest's exception filter tells them apart. */
export function isSocketIo(client: WsClient): client is SocketIoClient {
  return typeof (client as Partial<SocketIoClient>).handshake === 'object' && typeof (client as Partial<SocketIoClient>).disconnect === 'function';
}

/** Whether `value` looks like a client of either adapter. */
export function isWsClient(value: unknown): value is WsClient {
  if (typeof value !== 'object' || value === null) return false;
  const client = value as Partial<SocketIoClient & NativeClient>;
  return (
    (typeof client.handshake === 'object' && typeof client.disconnect === 'function') ||
    (typeof client.readyState === 'number' && typeof client.close === 'function')
  );
}

/**
 * The peer address of a client's connection: socket.io's engine connection (`conn.remoteAddress`,
 * else `handshake.address`), or the TCP socket of a `ws` WebSocket.
 */
export function clientPeer(client: WsClient, peerOf: (socket: PeerSocket | undefined) => string | undefined): string | undefined {
  if (isSocketIo(client)) return client.conn?.remoteAddress ?? client.handshake.address;
  return peerOf(client._socket);
}

/** The upgrade request of each `ws` client, as its connection was handed to the gateways (see `upgradeRequestOf`). */
const upgradeRequests = new WeakMap<object, object>();

/** Remembers the upgrade request of a `ws` client (the package keeps none), for `upgradeRequestOf`. */
export function rememberUpgradeRequest(client: WsClient, request: unknown): void {
  if (!isSocketIo(client) && typeof request === 'object' && request !== null) upgradeRequests.set(client, request);
}

/**
 * The HTTP request that opened a client's connection (its headers, its session), for the hooks of
 * its handshake and of each of its messages: socket.io's `socket.request`, or a `ws` client's
 * upgrade request as the module saw it. Undefined for anything else.
 */
export function upgradeRequestOf(client: unknown): object | undefined {
  if (!isWsClient(client)) return undefined;
  const request = isSocketIo(client) ? (client as { readonly request?: unknown }).request : upgradeRequests.get(client);
  return typeof request === 'object' && request !== null ? request : undefined;
}

/** The handshake's headers: socket.io keeps them; for `ws`, what the module remembered of the upgrade request. */
export function clientHeaders(client: WsClient, upgradeHeaders: (socket: PeerSocket | undefined) => Headers | undefined): Headers {
  if (isSocketIo(client)) return client.handshake.headers ?? {};
  return upgradeHeaders(client._socket) ?? {};
}

/**
 * Calls `listener` once the client's connection is closed (socket.io: when the socket disconnects,
 * or when its underlying connection closes, for a socket refused after the handshake was admitted;
 * the listener may run twice there and must not mind).
 */
export function onClientClose(client: WsClient, listener: () => void): void {
  if (isSocketIo(client)) {
    const { conn } = client;
    // The connection's listener goes with the socket: a long-lived connection whose namespace
    // sockets come and go must not gather them.
    client.once('disconnect', () => {
      conn?.off?.('close', listener);
      listener();
    });
    conn?.once?.('close', listener);
  } else client.once('close', listener);
}

/** Whether the client's connection is closing or closed already (a close event may have gone by). */
export function isClosed(client: WsClient): boolean {
  if (isSocketIo(client)) return client.conn?.readyState === 'closing' || client.conn?.readyState === 'closed';
  return client.readyState >= 2;
}

/** Sends `error` as Nest's exception filter does: an `exception` event (socket.io), or `{ event: 'exception', data }` (ws). */
export function sendError(client: WsClient, error: object): void {
  try {
    if (isSocketIo(client)) client.emit('exception', error);
    else if (client.readyState === 1) client.send(JSON.stringify({ event: 'exception', data: error }));
  } catch {
    // A connection that is going away takes the error with it.
  }
}

/** WebSocket close code 1008 (Policy Violation, RFC 6455). */
export const POLICY_VIOLATION = 1008;

/** Closes the client's connection: code 1008 on ws; socket.io disconnects it (and its underlying connection). */
export function closeClient(client: WsClient, reason: string): void {
  try {
    if (isSocketIo(client)) client.disconnect(true);
    else client.close(POLICY_VIOLATION, closeReason(reason));
  } catch {
    // Closed already, or the close refused: the connection is cut.
    if (!isSocketIo(client)) client.terminate?.();
  }
}

/** A close reason within the 123 bytes a close frame holds, cut on a character boundary. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let cut = reason.slice(0, 123);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return `${cut}…`;
}
