import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { io, type Socket as IoSocket } from 'socket.io-client';
import WebSocket from 'ws';
import { RateLimitModule, SkipThrottle, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';

/** A gateway under the module's rule (2 messages a minute), one handler exempt and one with a rule of its own. */
@WebSocketGateway()
export class ChatGateway {
  @SubscribeMessage('ping') ping(@MessageBody() data: unknown) {
    return { event: 'pong', data };
  }

  @SkipThrottle() @SubscribeMessage('free') free(@MessageBody() data: unknown) {
    return { event: 'free', data };
  }

  @Throttle({ limit: 4 }) @SubscribeMessage('burst') burst(@MessageBody() data: unknown) {
    return { event: 'burst', data };
  }
}

export type WsAdapterName = 'ws' | 'socket.io';
export const WS_ADAPTERS: WsAdapterName[] = ['ws', 'socket.io'];

/** One message a client received: an event name and its data. */
export interface Received {
  readonly event: string;
  readonly data: unknown;
}

/** A real client of either adapter over loopback. */
export interface TestClient {
  send(event: string, data?: unknown): void;
  /** The next message the server sent (waits for it). */
  next(): Promise<Received>;
  /** How many received messages nobody has taken with `next` yet. */
  readonly unread: number;
  /** Resolves when the server closes the connection: the close code on ws, the disconnect reason on socket.io. */
  readonly closed: Promise<number | string>;
  readonly isOpen: boolean;
  /** Sends text as it is (ws), or an event with odd arguments (socket.io). */
  raw(text: string): void;
  close(): void;
}

export interface WsTestApp {
  readonly app: INestApplication;
  /** A client; `auth` is socket.io's handshake payload. */
  connect(headers?: Record<string, string>, auth?: Record<string, string>): Promise<TestClient>;
  close(): Promise<void>;
}

const rule = { limit: 2, windowMs: 60_000, algorithm: 'fixed-window' as const };

/** The HTTP platform the gateway's app runs on. */
export type HttpPlatform = 'express' | 'fastify';

/**
 * Starts the gateway on `adapter`, listening on loopback, under `options` (by default the one rule
 * above), on Express unless `platform` says Fastify.
 */
export async function startWsApp(adapter: WsAdapterName, options: RateLimitModuleOptions = {}, platform: HttpPlatform = 'express'): Promise<WsTestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [RateLimitModule.forRoot({ rules: [rule], logger: { log() {}, warn() {}, error() {} }, ...options })],
    providers: [ChatGateway],
  }).compile();
  const app =
    platform === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false }) : moduleRef.createNestApplication({ logger: false });
  app.useWebSocketAdapter(adapter === 'ws' ? new WsAdapter(app) : new IoAdapter(app));
  await app.listen(0, '127.0.0.1');
  return startWsAppOn(adapter, app);
}

/** Clients of `adapter` for an app already listening on loopback. */
export function startWsAppOn(adapter: WsAdapterName, app: INestApplication): WsTestApp {
  const { port } = app.getHttpServer().address() as { port: number };
  const clients: TestClient[] = [];
  return {
    app,
    async connect(headers = {}, auth = {}) {
      const client = adapter === 'ws' ? await wsClient(`ws://127.0.0.1:${port}/`, headers) : await ioClient(`http://127.0.0.1:${port}`, headers, auth);
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await app.close();
    },
  };
}

/** Messages in arrival order, handed to whoever waits for the next one. */
class Inbox {
  private readonly queue: Received[] = [];
  private readonly waiting: ((message: Received) => void)[] = [];
  push(message: Received): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(message);
    else this.queue.push(message);
  }
  get size(): number {
    return this.queue.length;
  }
  next(): Promise<Received> {
    const message = this.queue.shift();
    return message ? Promise.resolve(message) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

function wsClient(url: string, headers: Record<string, string>): Promise<TestClient> {
  const socket = new WebSocket(url, { headers });
  const inbox = new Inbox();
  socket.on('message', (raw) => {
    const { event, data } = JSON.parse(String(raw)) as Received;
    inbox.push({ event, data });
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () =>
      resolve({
        send: (event, data) => socket.send(JSON.stringify({ event, data })),
        next: () => inbox.next(),
        get unread() {
          return inbox.size;
        },
        closed,
        get isOpen() {
          return socket.readyState === WebSocket.OPEN;
        },
        raw: (text) => socket.send(text),
        close: () => socket.terminate(),
      }),
    );
  });
}

function ioClient(url: string, headers: Record<string, string>, auth: Record<string, string>): Promise<TestClient> {
  const socket: IoSocket = io(url, { transports: ['websocket'], extraHeaders: headers, auth, reconnection: false, forceNew: true });
  const inbox = new Inbox();
  socket.onAny((event: string, data: unknown) => inbox.push({ event, data }));
  const closed = new Promise<string>((resolve) => socket.on('disconnect', (reason) => resolve(reason)));
  return new Promise((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.once('connect', () =>
      resolve({
        send: (event, data) => socket.emit(event, data),
        next: () => inbox.next(),
        get unread() {
          return inbox.size;
        },
        closed,
        get isOpen() {
          return socket.connected;
        },
        raw: (text) => socket.emit(text, { deeply: [[[[[{ nested: text }]]]]] }, () => undefined, 42),
        close: () => socket.disconnect(),
      }),
    );
  });
}

/** How a connection attempt ended: admitted (an open client), or refused at the handshake. */
export type Attempt =
  | { readonly admitted: TestClient }
  | {
      readonly refused: {
        readonly status: string;
        readonly code: string;
        readonly message: string;
        readonly retryAfterSeconds?: number;
        readonly rule?: string;
      };
      readonly close: number | string;
    };

/**
 * Opens a connection and tells whether the handshake was admitted: on ws, the first answer to a
 * `free` message (an `exception` and a 1008 close when refused); on socket.io, `connect` or
 * `connect_error` (whose `data` is the refusal).
 */
export async function attempt(t: WsTestApp, headers?: Record<string, string>, auth?: Record<string, string>): Promise<Attempt> {
  let client: TestClient;
  try {
    client = await t.connect(headers, auth);
  } catch (error) {
    const data = (error as { data?: unknown }).data as Extract<Attempt, { refused: unknown }>['refused'] | undefined;
    if (data === undefined) throw error;
    return { refused: data, close: 'connect_error' };
  }
  client.send('free', 'hello');
  const first = await client.next();
  if (first.event === 'free') return { admitted: client };
  if (first.event !== 'exception') throw new Error(`unexpected first message ${JSON.stringify(first)}`);
  return { refused: first.data as Extract<Attempt, { refused: unknown }>['refused'], close: await client.closed };
}
