import type { ExecutionContext } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import { GRPC_REFUSAL_TRAILERS, RateLimitService, type ViolationEvent } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';
import { DownStore } from './down-store.js';
import { RULE, startRpcApp, trailers, unary, type CalculatorClient, type GrpcOutcome, type RpcTestApp } from './rpc.app.js';

const MINUTE = 60_000;

/** The error of a refused call (fails the test when the call succeeded). */
function refused(outcome: GrpcOutcome): grpc.ServiceError {
  if (!('error' in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

/** The value of an admitted call (fails the test when it was refused). */
function admitted(outcome: GrpcOutcome): number {
  if ('error' in outcome) throw new Error(`expected an answer, got status ${outcome.error.code}: ${outcome.error.details}`);
  return outcome.value.total;
}

describe('gRPC microservice handlers', () => {
  let clock: FakeClock;
  let t: RpcTestApp | undefined;
  let client: CalculatorClient;

  beforeEach(() => {
    clock = new FakeClock();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (options = {}) => {
    t = await startRpcApp({ clock, ...options });
    client = t.grpcClient();
    return t;
  };
  const call = (method: 'add' | 'free' | 'burst' = 'add', metadata: grpc.Metadata | Record<string, string> = {}, values = [1, 2]) =>
    unary(client, method, values, metadata).outcome;

  it('refuses a call beyond its limit with RESOURCE_EXHAUSTED, the message as details and the wait in the trailers', async () => {
    await start();
    expect(admitted(await call())).toBe(3);
    expect(admitted(await call())).toBe(3);
    const error = refused(await call());
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error.details).toBe("Rate limit 'default' exceeded: at most 2 requests per 60 s. Retry in 60 s.");
    expect(trailers(error)).toMatchObject({
      [GRPC_REFUSAL_TRAILERS.code]: 'RATE_LIMITED',
      [GRPC_REFUSAL_TRAILERS.rule]: 'default',
      [GRPC_REFUSAL_TRAILERS.retryAfter]: '60',
      [GRPC_REFUSAL_TRAILERS.retryPushback]: '60000',
    });
    clock.advance(MINUTE);
    expect(admitted(await call('add', {}, [5]))).toBe(5);
  });

  it('never limits a @SkipThrottle() method, and counts each method apart under its own @Throttle', async () => {
    await start();
    for (let i = 0; i < 5; i++) expect(admitted(await call('free', {}, [i]))).toBe(i);
    for (let i = 0; i < 4; i++) admitted(await call('burst'));
    expect(refused(await call('burst')).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(admitted(await call('add'))).toBe(3);
  });

  it('counts the violations of Calculator.Add under the service and method names, with the method GRPC', async () => {
    const violations: ViolationEvent[] = [];
    await start({ events: { onViolation: (event: ViolationEvent) => void violations.push(event) } });
    await call();
    await call();
    refused(await call());
    await until(() => violations.length === 1);
    expect(violations[0]).toMatchObject({ key: '127.0.0.1', rule: 'default', route: 'Calculator.Add', method: 'GRPC', address: '127.0.0.1' });
  });

  it('limits a server-streaming method: a refused stream ends with the status and trailers, an admitted one sends every message', async () => {
    const app = await start();
    const stream = (values: number[]) =>
      new Promise<{ totals: number[]; error?: grpc.ServiceError }>((resolve) => {
        const totals: number[] = [];
        const call = client.count({ values });
        call.on('data', (message: { total: number }) => totals.push(message.total));
        call.on('error', (error: grpc.ServiceError) => resolve({ totals, error }));
        call.on('end', () => resolve({ totals }));
      });
    expect(await stream([1, 2, 3])).toEqual({ totals: [1, 2, 3] });
    expect(await stream([4])).toEqual({ totals: [4] });
    const third = await stream([5, 6]);
    expect(third.totals).toEqual([]);
    expect(third.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(trailers(third.error as grpc.ServiceError)).toMatchObject({ 'rampart-code': 'RATE_LIMITED', 'retry-after': '60' });
    expect(app.grpcPort).toBeGreaterThan(0);
  });

  it('counts a client-streaming call (@GrpcStreamMethod) once, when it starts; lets a @GrpcStreamCall call through uncounted', async () => {
    await start();
    const accumulate = (values: number[][]) =>
      new Promise<GrpcOutcome>((resolve) => {
        const call = client.accumulate((error, value) => resolve(error ? { error } : { value: value as { total: number } }));
        for (const v of values) call.write({ values: v });
        call.end();
      });
    expect(admitted(await accumulate([[1, 2], [3], [4]]))).toBe(10);
    expect(admitted(await accumulate([[5]]))).toBe(5);
    const error = refused(await accumulate([[6], [7]]));
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(trailers(error)).toMatchObject({ 'rampart-code': 'RATE_LIMITED', 'rampart-rule': 'default' });

    const relay = (values: number[][]) =>
      new Promise<{ totals: number[]; error?: grpc.ServiceError }>((resolve) => {
        const totals: number[] = [];
        const call = client.relay();
        call.on('data', (message: { total: number }) => totals.push(message.total));
        call.on('error', (e: grpc.ServiceError) => resolve({ totals, error: e }));
        call.on('end', () => resolve({ totals }));
        for (const v of values) call.write({ values: v });
        call.end();
      });
    // Nest leaves the refusal of a @GrpcStreamCall handler unhandled (it would end the process): never refused.
    for (let i = 0; i < 4; i++) expect(await relay([[i], [2, 3]])).toEqual({ totals: [i, 5] });
  });

  it('answers a banned client PERMISSION_DENIED with a pushback that stops retries, on @SkipThrottle() methods too', async () => {
    const app = await start();
    await app.app.get(RateLimitService).ban({ type: 'key', key: '127.0.0.1' }, 'permanent', undefined, 'abuse', 'ops');
    for (const method of ['add', 'free'] as const) {
      const error = refused(await call(method));
      expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(error.details).toBe('This client is banned. Ask the operator of this service to lift the ban.');
      expect(trailers(error)).toMatchObject({ 'rampart-code': 'BANNED', 'grpc-retry-pushback-ms': '-1' });
      expect(trailers(error)).not.toHaveProperty('retry-after');
    }
  });

  it('answers a deny-listed range PERMISSION_DENIED', async () => {
    const app = await start();
    await app.app.get(RateLimitService).putAccessEntry('deny', '127.0.0.0/8', 'ops');
    const error = refused(await call('free'));
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error.details).toBe('Requests from this address are not accepted.');
  });

  it('escalates repeated violations to a block: RESOURCE_EXHAUSTED with BLOCKED and the time left', async () => {
    await start({ escalation: { blockAfterViolations: 1, blockDurationMs: 15 * MINUTE } });
    await call();
    await call();
    const error = refused(await call());
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(trailers(error)).toMatchObject({ 'rampart-code': 'BLOCKED', 'retry-after': '900', 'grpc-retry-pushback-ms': '900000' });
    expect(trailers(error)).not.toHaveProperty('rampart-rule');
    clock.advance(MINUTE);
    expect(trailers(refused(await call('free')))).toMatchObject({ 'rampart-code': 'BLOCKED', 'retry-after': '840' });
  });

  it("follows the rule's onStoreError while the store is down: UNAVAILABLE for 'deny', admitted for 'allow'", async () => {
    await start({ store: new DownStore(), storeFallback: false, rules: [{ ...RULE, onStoreError: 'deny' }] });
    const error = refused(await call());
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(trailers(error)).toMatchObject({ 'rampart-code': 'UNAVAILABLE', 'retry-after': '1', 'grpc-retry-pushback-ms': '1000' });
    await t?.close();
    await start({ store: new DownStore(), storeFallback: false, rules: [{ ...RULE, onStoreError: 'allow' }] });
    for (let i = 0; i < 4; i++) expect(admitted(await call())).toBe(3);
  });

  describe('who the client is', () => {
    const apiKey = (context: ExecutionContext) => context.switchToRpc().getContext<grpc.Metadata>().get('x-api-key')[0] as string | undefined;

    it("counts by the module's keyResolver, which reads the call's metadata; the address's bans still apply", async () => {
      const app = await start({ keyResolver: apiKey });
      await call('add', { 'x-api-key': 'alice' });
      await call('add', { 'x-api-key': 'alice' });
      expect(refused(await call('add', { 'x-api-key': 'alice' })).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(admitted(await call('add', { 'x-api-key': 'bob' }))).toBe(3);
      // Without the key, the client is its address: a count of its own.
      expect(admitted(await call('add'))).toBe(3);
      await app.app.get(RateLimitService).ban({ type: 'key', key: '127.0.0.1' }, 'permanent', undefined, 'abuse', 'ops');
      expect(refused(await call('add', { 'x-api-key': 'carol' })).code).toBe(grpc.status.PERMISSION_DENIED);
    });

    it('counts a key sent as binary metadata by the address: a Buffer is no identity, whatever its bytes', async () => {
      const binary = (context: ExecutionContext) => context.switchToRpc().getContext<grpc.Metadata>().get('x-api-key-bin')[0];
      await start({ keyResolver: binary as never });
      const metadata = (value: string) => {
        const m = new grpc.Metadata();
        m.set('x-api-key-bin', Buffer.from(value));
        return m;
      };
      await call('add', metadata('one'));
      await call('add', metadata('two'));
      expect(refused(await call('add', metadata('three'))).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    });

    it("ignores x-forwarded-for metadata from a peer that is no trusted proxy: the peer's address is the client", async () => {
      await start();
      await call('add', { 'x-forwarded-for': '203.0.113.1' });
      await call('add', { 'x-forwarded-for': '203.0.113.2' });
      expect(refused(await call('add', { 'x-forwarded-for': '203.0.113.3' })).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    });

    it('ignores x-forwarded-for metadata under trustProxy.hops: a gRPC server on a port of its own is reached without the proxies', async () => {
      await start({ trustProxy: { hops: 1 } });
      await call('add', { 'x-forwarded-for': '203.0.113.1' });
      await call('add', { 'x-forwarded-for': '203.0.113.2' });
      expect(refused(await call('add', { 'x-forwarded-for': '203.0.113.3' })).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    });

    it('takes the client address from the x-forwarded-for metadata of a trusted proxy, and bans apply to it', async () => {
      const violations: ViolationEvent[] = [];
      const app = await start({ trustProxy: { proxies: ['loopback'] }, events: { onViolation: (event: ViolationEvent) => void violations.push(event) } });
      const a = { 'x-forwarded-for': '203.0.113.1' };
      const b = { 'x-forwarded-for': '198.51.100.9, 203.0.113.2' };
      await call('add', a);
      await call('add', a);
      refused(await call('add', a));
      expect(admitted(await call('add', b))).toBe(3);
      await until(() => violations.length === 1);
      expect(violations[0]).toMatchObject({ key: '203.0.113.1', address: '203.0.113.1' });
      await app.app.get(RateLimitService).ban({ type: 'key', key: '203.0.113.2' }, 'permanent', undefined, 'abuse', 'ops');
      expect(refused(await call('free', b)).code).toBe(grpc.status.PERMISSION_DENIED);
      expect(admitted(await call('free', a))).toBe(3);
    });

    it('never lets a trusted proxy forward garbage into a count of its own: malformed and oversized x-forwarded-for values share one', async () => {
      await start({ trustProxy: { proxies: ['loopback'] } });
      await call('add', { 'x-forwarded-for': 'not-an-address' });
      await call('add', { 'x-forwarded-for': '999.1.2.3' });
      const error = refused(await call('add', { 'x-forwarded-for': `${'1.'.repeat(2_000)}1` }));
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    });
  });

  describe('hostile calls', () => {
    it("refuses metadata over HTTP/2's header limit before any handler runs, counts large metadata like any call, and keeps serving", async () => {
      await start();
      const error = refused(await call('add', { 'x-padding': 'x'.repeat(100_000) }));
      expect(error.code).toBe(grpc.status.INTERNAL);
      const large = { 'x-padding': 'x'.repeat(32_000) };
      expect(admitted(await call('add', large))).toBe(3);
      expect(admitted(await call('add', large))).toBe(3);
      expect(refused(await call()).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    });

    it('answers an unknown method UNIMPLEMENTED and an undecodable message INTERNAL, and keeps counting the rest', async () => {
      await start();
      const raw = (path: string, bytes: Buffer) =>
        new Promise<grpc.ServiceError | null>((resolve) =>
          client.makeUnaryRequest(
            path,
            (value: Buffer) => value,
            (value: Buffer) => value,
            bytes,
            (error) => resolve(error),
          ),
        );
      expect((await raw('/rampart.test.Calculator/Nope', Buffer.from([1, 2, 3])))?.code).toBe(grpc.status.UNIMPLEMENTED);
      expect((await raw('/rampart.test.Calculator/Add', Buffer.from([0xff, 0xff, 0xff, 0xff])))?.code).toBe(grpc.status.INTERNAL);
      expect(admitted(await call())).toBe(3);
      expect(admitted(await call())).toBe(3);
      expect(refused(await call()).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    });
  });
});
