/**
 * Outcome-aware rules on microservice handlers, with real clients: a TCP `@MessagePattern` and a
 * gRPC method count the calls their handler fails, and give back the units of those it answers.
 */
import { Controller } from '@nestjs/common';
import { GrpcMethod, MessagePattern, Payload, RpcException, type ClientProxy } from '@nestjs/microservices';
import { Throttle } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { startRpcApp, unary, type CalculatorClient, type RpcTestApp } from '../rpc/rpc.app.js';

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
  let t: RpcTestApp;
  let tcp: ClientProxy;
  let grpc: CalculatorClient;

  beforeAll(async () => {
    t = await startRpcApp({ clock: new FakeClock(), escalation: false, rules: [{ limit: 1_000, windowMs: 60_000 }] }, [CheckController]);
    tcp = await t.tcpClient();
    grpc = t.grpcClient();
  });
  afterAll(() => t.close());

  const check = (ok: boolean) =>
    t.send(tcp, 'check', ok).then(
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
