import { Controller, UseInterceptors, type CallHandler, type ExecutionContext } from '@nestjs/common';
import { MessagePattern, type ClientProxy } from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import { firstValueFrom, timeout } from 'rxjs';
import { ConcurrencyLimit, RateLimitModule, RateLimitService, memoryStorage, type LeaseStore } from '../../lib/index.js';
import { Rampart } from '../../lib/engine/rampart.js';
import { startupProblems } from '../support/config-problems.js';
import { downLeases } from '../support/down-leases.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';
import {
  CalculatorController,
  TcpController,
  startRpcApp,
  trailers,
  unary,
  type CalculatorClient,
  type GrpcOutcome,
  type RpcTestApp,
  startTcpMicroservice,
} from './rpc.app.js';

const SLOW_GRPC = 'concurrency:Calculator.Slow:127.0.0.1';
const SLOW_TCP = 'concurrency:TcpController.slow:127.0.0.1';

describe('@ConcurrencyLimit on microservice handlers', () => {
  let t: RpcTestApp | undefined;
  let rampart: Rampart;

  afterEach(async () => {
    if (t) {
      // Handlers still held end, so that the app closes at once.
      for (const controller of [t.app.get(CalculatorController), t.app.get(TcpController)]) while (controller.gate.waiting > 0) controller.gate.release();
      await t.close();
    }
    t = undefined;
  });

  const start = async (options = {}) => {
    t = await startRpcApp({ clock: new FakeClock(), ...options });
    rampart = t.app.get(Rampart);
    return t;
  };
  /** The leases held on a pool (every instance's). */
  const held = (key: string) => rampart.leases.count(key);

  describe('on gRPC', () => {
    let client: CalculatorClient;
    let gate: CalculatorController['gate'];

    beforeEach(async () => {
      await start();
      client = (t as RpcTestApp).grpcClient();
      gate = (t as RpcTestApp).app.get(CalculatorController).gate;
    });

    /** Starts `count` calls of Slow and waits until their handlers hold them. */
    const inFlight = async (count: number, metadata: Record<string, string> = {}, options: grpc.CallOptions = {}) => {
      const before = gate.started;
      const calls = Array.from({ length: count }, (_, i) => unary(client, 'slow', [i], metadata, options));
      await until(() => gate.started === before + count);
      return calls;
    };
    const refusal = (outcome: GrpcOutcome) => {
      if (!('error' in outcome)) throw new Error('expected a refusal');
      return outcome.error;
    };

    it('refuses a call while every slot of the client is taken, with RESOURCE_EXHAUSTED and CONCURRENCY_LIMITED; a completed call frees its slot', async () => {
      const [first, second] = await inFlight(2);
      expect(await held(SLOW_GRPC)).toBe(2);
      const error = refusal(await unary(client, 'slow').outcome);
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(error.details).toBe("Concurrency limit 'concurrency' reached: at most 2 calls of this client at once. Retry when one has ended.");
      expect(trailers(error)).toMatchObject({
        'rampart-code': 'CONCURRENCY_LIMITED',
        'rampart-rule': 'concurrency',
        'retry-after': '1',
        'grpc-retry-pushback-ms': '1000',
      });
      expect(gate.started).toBe(2);
      gate.release();
      expect(await first.outcome).toEqual({ value: { total: 0 } });
      await until(() => rampart.leases.size === 1);
      const [third] = await inFlight(1);
      expect(await held(SLOW_GRPC)).toBe(2);
      gate.release();
      gate.release();
      expect(await second.outcome).toEqual({ value: { total: 1 } });
      expect(await third.outcome).toEqual({ value: { total: 0 } });
      await until(() => rampart.leases.size === 0);
      expect(await held(SLOW_GRPC)).toBe(0);
    });

    it('frees the slot of a call whose handler fails', async () => {
      const [failing] = await inFlight(2);
      gate.fail();
      expect(refusal(await failing.outcome).code).toBe(grpc.status.UNKNOWN);
      await until(() => rampart.leases.size === 1);
      await inFlight(1);
      expect(await held(SLOW_GRPC)).toBe(2);
    });

    it('frees the slot of a call the client cancels (its handler runs on, its answer unsent)', async () => {
      const [cancelled] = await inFlight(2);
      cancelled.call.cancel();
      expect(refusal(await cancelled.outcome).code).toBe(grpc.status.CANCELLED);
      await until(() => rampart.leases.size === 1);
      expect(gate.waiting).toBe(2);
      await inFlight(1);
      expect(await held(SLOW_GRPC)).toBe(2);
    });

    it('frees the slot of a call past its deadline', async () => {
      const [late] = await inFlight(1, {}, { deadline: Date.now() + 1_000 });
      await inFlight(1);
      expect(refusal(await late.outcome).code).toBe(grpc.status.DEADLINE_EXCEEDED);
      await until(() => rampart.leases.size === 1);
      await inFlight(1);
      expect(await held(SLOW_GRPC)).toBe(2);
    });

    it('takes no slot for an allow-listed client', async () => {
      await (t as RpcTestApp).app.get(RateLimitService).putAccessEntry('allow', '127.0.0.1', 'ops');
      await inFlight(3);
      expect(rampart.leases.size).toBe(0);
    });
  });

  it("counts the slots of each client apart: the module's keyResolver names it from the call's metadata", async () => {
    const keyResolver = (context: ExecutionContext) => context.switchToRpc().getContext<grpc.Metadata>().get('x-api-key')[0] as string | undefined;
    const app = await start({ keyResolver });
    const client = app.grpcClient();
    const gate = app.app.get(CalculatorController).gate;
    unary(client, 'slow', [1], { 'x-api-key': 'alice' });
    unary(client, 'slow', [2], { 'x-api-key': 'alice' });
    await until(() => gate.started === 2);
    const refused = await unary(client, 'slow', [3], { 'x-api-key': 'alice' }).outcome;
    expect('error' in refused && trailers(refused.error)['rampart-code']).toBe('CONCURRENCY_LIMITED');
    unary(client, 'slow', [4], { 'x-api-key': 'bob' });
    unary(client, 'slow', [5]);
    await until(() => gate.started === 4);
    expect(await held('concurrency:Calculator.Slow:alice')).toBe(2);
    expect(await held('concurrency:Calculator.Slow:bob')).toBe(1);
    expect(await held(SLOW_GRPC)).toBe(1);
  });

  describe('on TCP', () => {
    let client: ClientProxy;
    let gate: TcpController['gate'];
    const send = (data: unknown) => (t as RpcTestApp).send(client, 'slow', data);

    beforeEach(async () => {
      await start();
      client = await (t as RpcTestApp).tcpClient();
      gate = (t as RpcTestApp).app.get(TcpController).gate;
    });

    it("refuses a message while every slot is taken: the client's send() errors with CONCURRENCY_LIMITED; completion frees the slot", async () => {
      const first = send(1);
      const second = send(2);
      await until(() => gate.started === 2);
      await expect(send(3)).rejects.toEqual({
        status: 'error',
        code: 'CONCURRENCY_LIMITED',
        rule: 'concurrency',
        limit: 2,
        retryAfterSeconds: 1,
        message: "Concurrency limit 'concurrency' reached: at most 2 calls of this client at once. Retry when one has ended.",
      });
      gate.release();
      expect(await first).toBe(1);
      await until(() => rampart.leases.size === 1);
      const third = send(4);
      await until(() => gate.started === 3);
      gate.release();
      gate.release();
      expect(await second).toBe(2);
      expect(await third).toBe(4);
      await until(() => rampart.leases.size === 0);
    });

    it('frees the slot of a message whose handler fails', async () => {
      const failing = send(1);
      await until(() => gate.started === 1);
      gate.fail();
      await expect(failing).rejects.toMatchObject({ status: 'error' });
      await until(() => rampart.leases.size === 0);
    });

    it('frees the slots of a connection that closes with calls in flight', async () => {
      const other = await (t as RpcTestApp).tcpClient();
      const pending = [send(1), send(2)].map((call) => call.catch((error: unknown) => error));
      await until(() => gate.started === 2);
      await expect((t as RpcTestApp).send(other, 'slow', 3)).rejects.toMatchObject({ code: 'CONCURRENCY_LIMITED' });
      await client.close();
      await Promise.all(pending);
      await until(() => rampart.leases.size === 0);
      const next = (t as RpcTestApp).send(other, 'slow', 4);
      await until(() => gate.started === 3);
      expect(await held(SLOW_TCP)).toBe(1);
      while (gate.waiting > 0) gate.release();
      expect(await next).toBe(4);
    });
  });

  it('gives back a slot whose taking outlived the call: an outer timeout left before the handler ran', async () => {
    @Controller()
    class TimedController {
      // Decorators apply from the bottom: the timeout is the outer interceptor.
      @ConcurrencyLimit(1)
      @UseInterceptors({ intercept: (_context: ExecutionContext, next: CallHandler) => next.handle().pipe(timeout(50)) })
      @MessagePattern('timed')
      timed(data: unknown) {
        return data;
      }
    }
    const memory = memoryStorage();
    let slow = true;
    let taken: () => void = () => undefined;
    const leases: LeaseStore = {
      ...memory.leases,
      acquire: (...args) => (slow ? new Promise((resolve) => (taken = () => resolve(memory.leases.acquire(...args)))) : memory.leases.acquire(...args)),
      release: (key, id) => memory.leases.release(key, id),
      renew: (...args) => memory.leases.renew(...args),
      releaseHolder: (holder) => memory.leases.releaseHolder(holder),
      count: (key, nowMs) => memory.leases.count(key, nowMs),
    };
    const { microservice, client, close } = await startTcpMicroservice({ storage: { ...memory, leases }, storeTimeoutMs: 5_000 }, [TimedController]);
    try {
      // The slot is still being taken when the outer timeout ends the call.
      await expect(firstValueFrom(client.send('timed', 1))).rejects.toBeDefined();
      slow = false;
      taken();
      // The late grant comes back and is given back (background work: polled, not waited for by a clock).
      const held = () => memory.leases.count('concurrency:TimedController.timed:127.0.0.1', Date.now());
      for (let i = 0; i < 200 && (await held()) !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await held()).toBe(0);
      expect(microservice.get(Rampart).leases.size).toBe(0);
      // And the client's one slot is free for its next call.
      expect(await firstValueFrom(client.send('timed', 2))).toBe(2);
    } finally {
      await close();
    }
  });

  describe('while the lease store is down', () => {
    it("refuses calls with UNAVAILABLE (the default onStoreError of a concurrency limit is 'deny')", async () => {
      const app = await start({ storage: { ...memoryStorage(), leases: downLeases } });
      const outcome = await unary(app.grpcClient(), 'slow').outcome;
      expect('error' in outcome && outcome.error.code).toBe(grpc.status.UNAVAILABLE);
      expect('error' in outcome && trailers(outcome.error)).toMatchObject({ 'rampart-code': 'UNAVAILABLE', 'retry-after': '1' });
      const tcp = await app.tcpClient();
      await expect(app.send(tcp, 'slow', 1)).rejects.toMatchObject({ status: 'error', code: 'UNAVAILABLE', retryAfterSeconds: 1 });
      expect(app.app.get(CalculatorController).gate.started).toBe(0);
    });

    it("admits calls without a slot under onStoreError: 'allow'", async () => {
      @Controller()
      class OpenController {
        @ConcurrencyLimit(1, { onStoreError: 'allow' }) @MessagePattern('open') open(data: unknown) {
          return data;
        }
      }
      const { client, close } = await startTcpMicroservice({ storage: { ...memoryStorage(), leases: downLeases } }, [OpenController]);
      try {
        expect(await Promise.all([1, 2, 3].map((n) => firstValueFrom(client.send('open', n))))).toEqual([1, 2, 3]);
      } finally {
        await close();
      }
    });
  });

  it('stops the app at startup with every problem of its concurrency limits listed', async () => {
    @Controller()
    class BrokenController {
      @ConcurrencyLimit(0, { name: 'no spaces allowed', scope: '' }) @MessagePattern('broken') broken() {}
      @ConcurrencyLimit(3, { onStoreError: 'maybe' as never }) @MessagePattern('policy') policy() {}
      // Neither an HTTP route nor a microservice handler: a decorator that would do nothing.
      @ConcurrencyLimit(2) helper() {}
    }
    const problems = await startupProblems({
      imports: [RateLimitModule.forRoot({ storage: { ...memoryStorage(), leases: undefined }, logger: { log() {}, warn() {}, error() {} } })],
      controllers: [BrokenController],
    });
    expect(problems).toEqual([
      'This limit needs a lease store (storage.leases) to count its slots across instances; memoryStorage() and mongoStorage() have one, a custom storage must add it.',
      '@ConcurrencyLimit on BrokenController.broken limit must be a positive integer, got 0.',
      "@ConcurrencyLimit on BrokenController.broken name must be 1-64 letters, digits, '_', '-' or '.', got \"no spaces allowed\".",
      '@ConcurrencyLimit on BrokenController.broken scope must be a non-empty string of at most 128 characters, got "".',
      "@ConcurrencyLimit on BrokenController.policy onStoreError must be 'allow' (admit requests uncounted while the store is down) or 'deny' (answer 503), got \"maybe\".",
      '@ConcurrencyLimit on BrokenController.helper: concurrency limits apply to HTTP routes (@Get, @Post...) and microservice handlers (@MessagePattern, @EventPattern, @GrpcMethod, @GrpcStreamMethod), and BrokenController.helper is neither. Remove the decorator.',
    ]);
  });
});
