import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import { closeClient, isClosed, isSocketIo, isWsClient, rememberUpgradeRequest, sendError, type WsClient } from './ws-client.js';
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
/** socket.io servers (namespaces) given the middleware: gateways sharing one get it once. */
const guardedServers = new WeakSet<object>();
/** Each `ws` client's one decision, shared by the gateways its server serves. */
const admissions = new WeakMap<object, Promise<WsRateLimitError | undefined>>();

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
      if (!guardedServers.has(candidate)) {
        guardedServers.add(candidate);
        warnOfRecovery(candidate, logger);
        candidate.use(ioMiddleware(gate, logger));
      }
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

/**
 * `ws` (and other adapters): decides the connection before the gateway's connection handler runs.
 * Gateways that share a server (one path) each get the connection: it is decided once, its early
 * messages held once, and handed on once every gateway has bound its handlers.
 */
function gatedCallback(gate: () => Promise<WsConnectionGate>, logger: RampartLogger, callback: (...args: unknown[]) => void) {
  return (...args: unknown[]): void => {
    const [client, request] = args;
    if (!isWsClient(client)) return callback(...args);
    let admission = admissions.get(client);
    if (admission === undefined) {
      rememberUpgradeRequest(client, request);
      const early = holdMessages(client as unknown as Pausable, client);
      admission = gate()
        .then((g) => g.admit(client, request as UpgradeRequest | undefined))
        .catch((error: unknown): WsRateLimitError => {
          logger.error(messages.handshakeCheckFailed(error));
          return { status: 'error', code: 'UNAVAILABLE', retryAfterSeconds: 1, message: messages.handshakeUnchecked() };
        });
      admissions.set(client, admission);
      // After every gateway's handler below has run (they are queued first): the early messages, once.
      void admission.then((refusal) => {
        if (refusal || isClosed(client)) return refuse(client, early, refusal);
        setImmediate(() => early.replay());
      });
    }
    // A client that left while it was decided is never handed to a gateway, which would never hear it close.
    void admission.then((refusal) => refusal || isClosed(client) || callback(...args));
  };
}

/** socket.io skips middlewares for a recovered connection unless told not to: said once at startup. */
function warnOfRecovery(server: object, logger: RampartLogger): void {
  const recovery = (server as { server?: { opts?: { connectionStateRecovery?: { skipMiddlewares?: boolean } } } }).server?.opts?.connectionStateRecovery;
  if (recovery !== undefined && recovery.skipMiddlewares !== false) logger.warn(messages.recoverySkipsHandshakeCheck());
}

function refuse(client: WsClient, early: { drop(): void }, refusal: WsRateLimitError | undefined): void {
  early.drop();
  if (refusal === undefined) return;
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
