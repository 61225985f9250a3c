import { Controller, type INestApplication, type INestMicroservice, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ClientProxyFactory,
  EventPattern,
  GrpcMethod,
  GrpcStreamCall,
  GrpcStreamMethod,
  MessagePattern,
  Payload,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { firstValueFrom, interval, map, reduce, take, type Observable } from 'rxjs';
import { ConcurrencyLimit, RateLimitModule, SkipThrottle, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';
import { Gate } from '../support/gate.js';

export { Gate };

export const PROTO_PATH = join(__dirname, 'calculator.proto');

interface Numbers {
  readonly values?: readonly number[];
}
interface Total {
  readonly total: number;
}
const total = (numbers: Numbers | undefined): Total => ({ total: (numbers?.values ?? []).reduce((a, b) => a + b, 0) });

/**
 * TCP patterns under the module's rule (2 calls a minute), one exempt, one with a rule of its own,
 * one held open by the test with 2 slots per client, and an event.
 */
@Controller()
export class TcpController {
  readonly logged: unknown[] = [];
  readonly gate = new Gate();

  @MessagePattern({ cmd: 'sum' }) sum(@Payload() values: unknown) {
    return Array.isArray(values) ? values.reduce((a: number, b: unknown) => a + Number(b), 0) : null;
  }

  @SkipThrottle() @MessagePattern('free') free(@Payload() data: unknown) {
    return data ?? null;
  }

  @Throttle({ limit: 4 }) @MessagePattern('burst') burst(@Payload() data: unknown) {
    return data ?? null;
  }

  @SkipThrottle() @ConcurrencyLimit(2) @MessagePattern('slow') slow(@Payload() data: unknown) {
    return this.gate.hold(data ?? null);
  }

  @EventPattern('log') log(@Payload() data: unknown) {
    this.logged.push(data);
  }
}

/** The `Calculator` service of calculator.proto, with the same rules as the TCP patterns, and a server-streaming method. */
@Controller()
export class CalculatorController {
  readonly gate = new Gate();

  @GrpcMethod('Calculator', 'Add') add(numbers: Numbers): Total {
    return total(numbers);
  }

  @SkipThrottle() @GrpcMethod('Calculator', 'Free') free(numbers: Numbers): Total {
    return total(numbers);
  }

  @Throttle({ limit: 4 }) @GrpcMethod('Calculator', 'Burst') burst(numbers: Numbers): Total {
    return total(numbers);
  }

  @SkipThrottle() @ConcurrencyLimit(2) @GrpcMethod('Calculator', 'Slow') slow(numbers: Numbers): Promise<Total> {
    return this.gate.hold(total(numbers));
  }

  /** Client streaming (an observable of the messages): the total of every value sent. */
  @GrpcStreamMethod('Calculator', 'Accumulate') accumulate(messages: Observable<Numbers>): Observable<Total> {
    return messages.pipe(reduce((sum, numbers) => ({ total: sum.total + total(numbers).total }), { total: 0 }));
  }

  /** Bidi streaming, on the call itself: one total back per message, until the client ends. */
  @GrpcStreamCall('Calculator', 'Relay') relay(call: grpc.ServerDuplexStream<Numbers, Total>): void {
    call.on('data', (numbers: Numbers) => call.write(total(numbers)));
    call.on('end', () => call.end());
  }

  /** Server streaming: one message per value, 1 ms apart. */
  @GrpcMethod('Calculator', 'Count') count(numbers: Numbers): Observable<Total> {
    const values = numbers.values ?? [];
    return interval(1).pipe(
      take(values.length),
      map((i) => ({ total: values[i] })),
    );
  }
}

/**
 * A port free on loopback right now, for the gRPC server (Nest does not tell the port grpc-js bound
 * to). Taken below Linux's ephemeral range (32768-60999), so that no outgoing connection of another
 * suite can take it before the server binds it; tried again when another process holds it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
    if (attempt === 20) throw new Error('no free port found for the gRPC server');
  }
}

/** A real gRPC client of the `Calculator` service. */
export interface CalculatorClient extends grpc.Client {
  add(numbers: Numbers, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Total>): grpc.ClientUnaryCall;
  free(numbers: Numbers, metadata: grpc.Metadata, callback: grpc.requestCallback<Total>): grpc.ClientUnaryCall;
  burst(numbers: Numbers, metadata: grpc.Metadata, callback: grpc.requestCallback<Total>): grpc.ClientUnaryCall;
  slow(numbers: Numbers, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Total>): grpc.ClientUnaryCall;
  count(numbers: Numbers, metadata?: grpc.Metadata): grpc.ClientReadableStream<Total>;
  accumulate(callback: grpc.requestCallback<Total>): grpc.ClientWritableStream<Numbers>;
  relay(): grpc.ClientDuplexStream<Numbers, Total>;
}

/** The outcome of one unary call: its value, or the status error a grpc-js client sees. */
export type GrpcOutcome = { readonly value: Total } | { readonly error: grpc.ServiceError };

export function calculatorClient(port: number): CalculatorClient {
  const definition = protoLoader.loadSync(PROTO_PATH);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { rampart: { test: { Calculator: grpc.ServiceClientConstructor } } };
  return new loaded.rampart.test.Calculator(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as CalculatorClient;
}

/** Calls a unary method with optional metadata (a record of text values); resolves with its outcome. */
export function unary(
  client: CalculatorClient,
  method: 'add' | 'free' | 'burst' | 'slow',
  values: number[] = [1, 2],
  metadata: grpc.Metadata | Record<string, string> = {},
  options: grpc.CallOptions = {},
): { readonly call: grpc.ClientUnaryCall; readonly outcome: Promise<GrpcOutcome> } {
  let md = metadata;
  if (!(md instanceof grpc.Metadata)) {
    const built = new grpc.Metadata();
    for (const [key, value] of Object.entries(md)) built.set(key, value);
    md = built;
  }
  let call!: grpc.ClientUnaryCall;
  const outcome = new Promise<GrpcOutcome>((resolve) => {
    const callback: grpc.requestCallback<Total> = (error, value) => resolve(error ? { error } : { value: value as Total });
    call =
      method === 'add' || method === 'slow'
        ? client[method]({ values }, md as grpc.Metadata, options, callback)
        : client[method]({ values }, md as grpc.Metadata, callback);
  });
  return { call, outcome };
}

/** The trailers of a refused call, as text. */
export function trailers(error: grpc.ServiceError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(error.metadata.getMap())) out[key] = String(value);
  return out;
}

export interface RpcTestApp {
  readonly app: INestApplication;
  readonly tcpPort: number;
  readonly grpcPort: number;
  /** A TCP client (ClientProxy) connected to the app. */
  tcpClient(): Promise<ClientProxy>;
  /** A gRPC client of the `Calculator` service. */
  grpcClient(): CalculatorClient;
  /** Sends a TCP message; resolves with its reply, rejects with the error the client's observable gets. */
  send(client: ClientProxy, pattern: unknown, data: unknown): Promise<unknown>;
  close(): Promise<void>;
}

export const RULE = { limit: 2, windowMs: 60_000, algorithm: 'fixed-window' as const };

/**
 * A hybrid app (no HTTP listener) with a TCP and a gRPC microservice on loopback, under `options`
 * (by default the one rule above). `inheritAppConfig` carries the module's global guard to them.
 */
export async function startRpcApp(options: RateLimitModuleOptions = {}, controllers: Type[] = [TcpController, CalculatorController]): Promise<RpcTestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [RateLimitModule.forRoot({ rules: [RULE], logger: { log() {}, warn() {}, error() {} }, ...options })],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const grpcPort = await freePort();
  const tcp = app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 } }, { inheritAppConfig: true });
  app.connectMicroservice(
    { transport: Transport.GRPC, options: { package: 'rampart.test', protoPath: PROTO_PATH, url: `127.0.0.1:${grpcPort}` } },
    { inheritAppConfig: true },
  );
  await app.init();
  await app.startAllMicroservices();
  const tcpPort = (tcp.unwrap<import('node:net').Server>().address() as { port: number }).port;
  const clients: ClientProxy[] = [];
  const grpcClients: grpc.Client[] = [];
  return {
    app,
    tcpPort,
    grpcPort,
    async tcpClient() {
      const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: tcpPort } });
      await client.connect();
      clients.push(client);
      return client;
    },
    grpcClient() {
      const client = calculatorClient(grpcPort);
      grpcClients.push(client);
      return client;
    },
    send: (client, pattern, data) => firstValueFrom(client.send(pattern, data)),
    async close() {
      for (const client of clients) await client.close();
      for (const client of grpcClients) client.close();
      await app.close();
    },
  };
}

/** A TCP microservice on its own (`createNestMicroservice`) with `controllers`, and a client of it. */
export interface TcpMicroservice {
  readonly microservice: INestMicroservice;
  readonly client: ClientProxy;
  close(): Promise<void>;
}

/** Starts `controllers` as a TCP microservice on loopback under the module's `options` (quiet), with a client. */
export async function startTcpMicroservice(options: RateLimitModuleOptions, controllers: Type[]): Promise<TcpMicroservice> {
  const moduleRef = await Test.createTestingModule({
    imports: [RateLimitModule.forRoot({ logger: { log() {}, warn() {}, error() {} }, ...options })],
    controllers,
  }).compile();
  const microservice = moduleRef.createNestMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 }, logger: false });
  await microservice.listen();
  const { port } = microservice.unwrap<import('node:net').Server>().address() as { port: number };
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
  return {
    microservice,
    client,
    async close() {
      await client.close();
      await microservice.close();
    },
  };
}
