/**
 * Outcome-aware rules on microservice handlers, with real clients: a TCP `@MessagePattern` and a
 * gRPC method count the calls their handler fails, and give back the units of those it answers.
 */
import { Controller, type INestApplication } from '@nestjs/common';
import { ClientProxyFactory, GrpcMethod, MessagePattern, Payload, RpcException, Transport, type ClientProxy } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { RateLimitModule, Throttle } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { calculatorClient, freePort, PROTO_PATH, unary, type CalculatorClient } from '../rpc/rpc.app.js';
import { Test } from '@nestjs/testing';

const FAILURES = { name: 'failures', limit: 2, windowMs: 60_000, algorithm: 'fixed-window' as const, countIf: 'failed' as const };

@Controller()
class CheckController {
  @Throttle(FAILURES) @MessagePattern('check') check(@Payload() ok: unknown) {
    if (ok !== true) throw new RpcException('rejected');
    return 'accepted';
  }

  /** Fails (asynchronously) for a negative value. */
  @Throttle(FAILURES) @GrpcMethod('Calculator', 'Add') async add(numbers: { values?: number[] }) {
    await Promise.resolve();
    if ((numbers.values ?? []).some((v) => v < 0)) throw new RpcException({ code: 3, message: 'negative' });
    return { total: (numbers.values ?? []).reduce((a, b) => a + b, 0) };
  }
}

describe('outcome-aware rules on microservice handlers', () => {
  let app: INestApplication;
  let tcp: ClientProxy;
  let grpc: CalculatorClient;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ clock: new FakeClock(), escalation: false, rules: [{ limit: 1_000, windowMs: 60_000 }], logger: { log() {}, warn() {}, error() {} } })],
      controllers: [CheckController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    const grpcPort = await freePort();
    const server = app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 } }, { inheritAppConfig: true });
    app.connectMicroservice({ transport: Transport.GRPC, options: { package: 'rampart.test', protoPath: PROTO_PATH, url: `127.0.0.1:${grpcPort}` } }, { inheritAppConfig: true });
    await app.init();
    await app.startAllMicroservices();
    const { port } = server.unwrap<import('node:net').Server>().address() as { port: number };
    tcp = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await tcp.connect();
    grpc = calculatorClient(grpcPort);
  });
  afterAll(async () => {
    await tcp.close();
    grpc.close();
    await app.close();
  });

  const check = (ok: boolean) =>
    firstValueFrom(tcp.send<string>('check', ok)).then(
      (value) => value,
      (error: { code?: string; message?: string }) => error.code ?? error.message,
    );

  it('TCP: counts the calls the handler fails only', async () => {
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await check(true));
    answers.push(await check(false), await check(false), await check(false), await check(true));
    expect(answers).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'rejected', 'rejected', 'RATE_LIMITED', 'RATE_LIMITED']);
  });

  it('gRPC: counts the calls the handler fails only', async () => {
    const codes = [];
    for (const values of [[1], [2], [3], [4], [-1], [-2], [-3], [5]]) {
      const outcome = await unary(grpc, 'add', values).outcome;
      codes.push('value' in outcome ? outcome.value.total : outcome.error.code);
    }
    // 3: INVALID_ARGUMENT from the handler; 8: RESOURCE_EXHAUSTED from Rampart.
    expect(codes).toEqual([1, 2, 3, 4, 3, 3, 8, 8]);
  });
});
