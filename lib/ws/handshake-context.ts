import type { ArgumentsHost, ExecutionContext, Type } from '@nestjs/common';

/** What `getHandler()` of a handshake's context returns: no handler runs for a handshake. */
function handshake(): void {}

/** The class `getClass()` of a handshake's context returns. */
export class WebSocketHandshake {}

/**
 * The `ExecutionContext` the module's hooks (`keyResolver`, `skipIf`, a connection rule's hooks) get
 * for a WebSocket handshake, before any gateway sees the connection: `getType()` is `'ws'`,
 * `switchToWs().getClient()` the client (a socket.io `Socket`, with its `handshake`; or a `ws`
 * WebSocket), `switchToWs().getPattern()` is `'connection'`, and `getArgByIndex(1)` the upgrade
 * request (`IncomingMessage`) on the `ws` adapter, whose headers a `ws` client does not keep.
 */
export class HandshakeContext implements ExecutionContext {
  private readonly args: unknown[];

  constructor(
    private readonly client: unknown,
    request: unknown,
  ) {
    this.args = [client, request];
  }

  getType<T extends string = 'ws'>(): T {
    return 'ws' as T;
  }

  getClass<T = unknown>(): Type<T> {
    return WebSocketHandshake as Type<T>;
  }

  getHandler(): (...args: unknown[]) => unknown {
    return handshake;
  }

  getArgs<T extends unknown[] = unknown[]>(): T {
    return this.args as T;
  }

  getArgByIndex<T = unknown>(index: number): T {
    return this.args[index] as T;
  }

  switchToWs(): ReturnType<ArgumentsHost['switchToWs']> {
    return { getClient: <T>() => this.client as T, getData: <T>() => undefined as T, getPattern: () => 'connection' };
  }

  switchToHttp(): ReturnType<ArgumentsHost['switchToHttp']> {
    return { getRequest: <T>() => this.args[1] as T, getResponse: <T>() => undefined as T, getNext: <T>() => undefined as T };
  }

  switchToRpc(): ReturnType<ArgumentsHost['switchToRpc']> {
    return { getData: <T>() => undefined as T, getContext: <T>() => undefined as T };
  }
}
