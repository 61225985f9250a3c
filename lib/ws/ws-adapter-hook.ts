import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import { closeClient, isSocketIo, isWsClient, sendError, type WsClient } from './ws-client.js';
import type { UpgradeRequest, WsConnectionGate } from './ws-connection-gate.js';
import type { WsRateLimitError } from './ws-rate-limit-error.js';

/** Where Nest keeps the app's WebSocket adapter (`ApplicationConfig`): `app.useWebSocketAdapter` sets it. */
export interface AdapterHost {
  getIoAdapter(): unknown;
  setIoAdapter(adapter: unknown): unknown;
}

/** What Nest asks of every WebSocket adapter to connect a gateway's server. */
interface ConnectingAdapter {
  bindClientConnect(server: unknown, callback: (...args: unknown[]) => void): unknown;
}

/** A server socket.io's way: a `Server` or `Namespace`, with middlewares. */
interface MiddlewareServer {
  use(middleware: (socket: unknown, next: (error?: Error) => void) => void): unknown;
}

/** A `ws` client's events, paused and replayed while its handshake is decided. */
interface Pausable {
  on(event: 'message', listener: (...args: unknown[]) => void): unknown;
  off(event: 'message', listener: (...args: unknown[]) => void): unknown;
  emit(event: 'message', ...args: unknown[]): unknown;
  pause?(): void;
  resume?(): void;
}

/** Messages a `ws` client may send before its handshake is decided (held, then handed to the gateway). */
const MAX_EARLY_MESSAGES = 100;

const hooked = new WeakSet<object>();

/**
 * Puts Rampart's handshake check in front of every gateway of the app, whatever adapter it uses:
 * the adapter Nest is given (now, or later by `app.useWebSocketAdapter`, or its default socket.io
 * adapter) connects each gateway's clients through the gate. A socket.io server gets a middleware
 * (a refusal is the client's `connect_error`, with the `WsRateLimitError` as `data`); on the `ws`
 * adapter a refused connection gets the error as an `exception` message and is closed with 1008,
 * and the gateway never sees it. Messages sent while the handshake is decided are held and handed
 * to the gateway once it is admitted.
 */
export function hookWsAdapters(host: AdapterHost, gate: () => Promise<WsConnectionGate>, logger: RampartLogger): void {
  const current = host.getIoAdapter();
  if (current) hookAdapter(current, gate, logger);
  const setIoAdapter = host.setIoAdapter;
  host.setIoAdapter = function (this: AdapterHost, adapter: unknown) {
    if (adapter) hookAdapter(adapter, gate, logger);
    return setIoAdapter.call(this, adapter);
  };
}

function hookAdapter(adapter: unknown, gate: () => Promise<WsConnectionGate>, logger: RampartLogger): void {
  const target = adapter as Partial<ConnectingAdapter>;
  if (typeof target.bindClientConnect !== 'function' || hooked.has(target)) return;
  hooked.add(target);
  const bind = target.bindClientConnect;
  target.bindClientConnect = function (this: unknown, server: unknown, callback: (...args: unknown[]) => void) {
    const candidate = server as Partial<MiddlewareServer> & { handleUpgrade?: unknown };
    if (typeof candidate?.use === 'function' && typeof candidate.handleUpgrade !== 'function') {
      candidate.use(ioMiddleware(gate, logger));
      return bind.call(this, server, callback);
    }
    return bind.call(this, server, gatedCallback(gate, logger, callback));
  };
}

/** socket.io: decides the handshake before the socket connects. */
function ioMiddleware(gate: () => Promise<WsConnectionGate>, logger: RampartLogger) {
  return (socket: unknown, next: (error?: Error) => void): void => {
    if (!isWsClient(socket) || !isSocketIo(socket)) return next();
    gate()
      .then((g) => g.admit(socket, undefined))
      .then(
        (refusal) => next(refusal ? connectError(refusal) : undefined),
        (error: unknown) => {
          logger.error(messages.handshakeCheckFailed(error));
          next(connectError({ status: 'error', code: 'UNAVAILABLE', retryAfterSeconds: 1, message: messages.handshakeUnchecked() }));
        },
      );
  };
}

/** The error socket.io hands the client as `connect_error`: its message, and the whole refusal as `data`. */
function connectError(refusal: WsRateLimitError): Error {
  return Object.assign(new Error(refusal.message), { data: refusal });
}

/** `ws` (and other adapters): decides the connection before the gateway's connection handler runs. */
function gatedCallback(gate: () => Promise<WsConnectionGate>, logger: RampartLogger, callback: (...args: unknown[]) => void) {
  return (...args: unknown[]): void => {
    const [client, request] = args;
    if (!isWsClient(client)) return callback(...args);
    const early = holdMessages(client as unknown as Pausable, client);
    gate()
      .then((g) => g.admit(client, request as UpgradeRequest | undefined))
      .then(
        (refusal) => {
          if (refusal) return refuse(client, early, refusal);
          callback(...args);
          early.replay();
        },
        (error: unknown) => {
          logger.error(messages.handshakeCheckFailed(error));
          refuse(client, early, { status: 'error', code: 'UNAVAILABLE', retryAfterSeconds: 1, message: messages.handshakeUnchecked() });
        },
      );
  };
}

function refuse(client: WsClient, early: { drop(): void }, refusal: WsRateLimitError): void {
  early.drop();
  sendError(client, refusal);
  closeClient(client, refusal.message);
}

/** Holds a `ws` client's messages (and pauses it) until its handshake is decided. */
function holdMessages(events: Pausable, client: WsClient): { replay(): void; drop(): void } {
  if (typeof events.on !== 'function' || typeof events.off !== 'function') return { replay() {}, drop() {} };
  const held: unknown[][] = [];
  const hold = (...message: unknown[]) => {
    if (held.length < MAX_EARLY_MESSAGES) held.push(message);
    else closeClient(client, messages.tooManyEarlyMessages(MAX_EARLY_MESSAGES));
  };
  events.on('message', hold);
  events.pause?.();
  return {
    replay() {
      events.off('message', hold);
      for (const message of held) events.emit('message', ...message);
      events.resume?.();
    },
    drop() {
      events.off('message', hold);
      // Read on, so that the close handshake completes.
      events.resume?.();
    },
  };
}
