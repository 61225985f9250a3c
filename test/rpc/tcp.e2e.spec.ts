import type { ExecutionContext } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { connect, type Socket } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { RateLimitService, type ViolationEvent } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';
import { DownStore } from './down-store.js';
import { RULE, TcpController, startRpcApp, type RpcTestApp, startTcpMicroservice } from './rpc.app.js';

const MINUTE = 60_000;
const SUM = { cmd: 'sum' };

/** A raw TCP connection speaking Nest's framing (`<length>#<json>`) by hand. */
class RawTcp {
  private readonly socket: Socket;
  private buffer = '';
  readonly replies: unknown[] = [];
  readonly closed: Promise<void>;
  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let i = this.buffer.indexOf('#'); i !== -1; i = this.buffer.indexOf('#')) {
        const length = Number(this.buffer.slice(0, i));
        if (this.buffer.length < i + 1 + length) break;
        this.replies.push(JSON.parse(this.buffer.slice(i + 1, i + 1 + length)));
        this.buffer = this.buffer.slice(i + 1 + length);
      }
    });
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }
  write(text: string): void {
    this.socket.write(text);
  }
  frame(packet: unknown): void {
    const json = JSON.stringify(packet);
    this.socket.write(`${json.length}#${json}`);
  }
  destroy(): void {
    this.socket.destroy();
  }
}

describe('TCP microservice handlers', () => {
  let clock: FakeClock;
  let t: RpcTestApp | undefined;
  let client: ClientProxy;

  beforeEach(() => {
    clock = new FakeClock();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (options = {}) => {
    t = await startRpcApp({ clock, ...options });
    client = await t.tcpClient();
    return t;
  };
  const send = (pattern: unknown, data: unknown = [1, 2]) => (t as RpcTestApp).send(client, pattern, data);

  it("refuses a @MessagePattern call beyond its limit: the client's send() errors with the code, the rule and retryAfterSeconds", async () => {
    await start();
    expect(await send(SUM)).toBe(3);
    expect(await send(SUM)).toBe(3);
    await expect(send(SUM)).rejects.toEqual({
      status: 'error',
      code: 'RATE_LIMITED',
      rule: 'default',
      retryAfterSeconds: 60,
      message: "Rate limit 'default' exceeded: at most 2 requests per 60 s. Retry in 60 s.",
    });
    clock.advance(MINUTE);
    expect(await send(SUM, [4, 5])).toBe(9);
  });

  it('never limits a @SkipThrottle() handler, and counts each handler apart under its own @Throttle', async () => {
    await start();
    for (let i = 0; i < 5; i++) expect(await send('free', i)).toBe(i);
    for (let i = 0; i < 4; i++) expect(await send('burst', i)).toBe(i);
    await expect(send('burst', 5)).rejects.toMatchObject({ code: 'RATE_LIMITED', rule: 'default', retryAfterSeconds: 60 });
    expect(await send(SUM)).toBe(3);
  });

  it('counts the violations of TcpController.sum under its route key, with the method MESSAGE', async () => {
    const violations: ViolationEvent[] = [];
    await start({ events: { onViolation: (event: ViolationEvent) => void violations.push(event) } });
    await send(SUM);
    await send(SUM);
    await expect(send(SUM)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await until(() => violations.length === 1);
    expect(violations[0]).toMatchObject({ key: '127.0.0.1', rule: 'default', route: 'TcpController.sum', method: 'MESSAGE', address: '127.0.0.1' });
  });

  it('drops an @EventPattern event beyond the limit: the handler does not run, and the violation is counted', async () => {
    const violations: ViolationEvent[] = [];
    const app = await start({ events: { onViolation: (event: ViolationEvent) => void violations.push(event) } });
    const controller = app.app.get(TcpController);
    for (let i = 1; i <= 4; i++) client.emit('log', { n: i });
    await until(() => violations.length === 2);
    expect(controller.logged).toEqual([{ n: 1 }, { n: 2 }]);
    expect(violations.map((v) => [v.route, v.method])).toEqual([
      ['TcpController.log', 'EVENT'],
      ['TcpController.log', 'EVENT'],
    ]);
    // The connection is still served.
    expect(await send('free', 'still here')).toBe('still here');
  });

  it('refuses every call of a banned client with BANNED, on @SkipThrottle() handlers too', async () => {
    const app = await start();
    await app.app.get(RateLimitService).ban({ type: 'key', key: '127.0.0.1' }, 'permanent', undefined, 'abuse', 'ops');
    const banned = { status: 'error', code: 'BANNED', message: 'This client is banned. Ask the operator of this service to lift the ban.' };
    await expect(send(SUM)).rejects.toEqual(banned);
    await expect(send('free', 1)).rejects.toEqual(banned);
  });

  it('refuses a deny-listed range with BANNED', async () => {
    const app = await start();
    await app.app.get(RateLimitService).putAccessEntry('deny', '127.0.0.0/8', 'ops');
    await expect(send(SUM)).rejects.toEqual({ status: 'error', code: 'BANNED', message: 'Requests from this address are not accepted.' });
  });

  it('escalates repeated violations to a block: BLOCKED with the time left', async () => {
    await start({ escalation: { blockAfterViolations: 1, blockDurationMs: 15 * MINUTE } });
    await send(SUM);
    await send(SUM);
    await expect(send(SUM)).rejects.toMatchObject({ status: 'error', code: 'BLOCKED', retryAfterSeconds: 900 });
    clock.advance(MINUTE);
    await expect(send('free', 1)).rejects.toMatchObject({ code: 'BLOCKED', retryAfterSeconds: 840 });
  });

  it("follows the rule's onStoreError while the store is down: UNAVAILABLE for 'deny', admitted for 'allow'", async () => {
    await start({
      store: new DownStore(),
      storeFallback: false,
      rules: [RULE],
      onStoreError: 'deny',
    });
    await expect(send(SUM)).rejects.toEqual({
      status: 'error',
      code: 'UNAVAILABLE',
      retryAfterSeconds: 1,
      message: expect.stringContaining('unavailable'),
    });
    await t?.close();
    await start({ store: new DownStore(), storeFallback: false, rules: [RULE], onStoreError: 'allow' });
    for (let i = 0; i < 4; i++) expect(await send(SUM)).toBe(3);
  });

  it("counts by the module's keyResolver, which reads the message's payload", async () => {
    const keyResolver = (context: ExecutionContext) => context.switchToRpc().getData<{ user?: unknown }>()?.user as string | undefined;
    await start({ keyResolver });
    await send('burst', { user: 'alice' });
    for (let i = 0; i < 3; i++) await send('burst', { user: 'alice' });
    await expect(send('burst', { user: 'alice' })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // Same address, another identity: a count of its own.
    expect(await send('burst', { user: 'bob' })).toEqual({ user: 'bob' });
    // A payload whose user is no text falls back to the address, which has a count of its own.
    expect(await send('burst', { user: { $gt: '' } })).toEqual({ user: { $gt: '' } });
  });

  it('survives malformed frames and payloads with a clear error, and never lets them past the limit', async () => {
    const app = await start();
    const corrupt = new RawTcp(app.tcpPort);
    corrupt.write('abc#{}');
    await corrupt.closed;
    const badJson = new RawTcp(app.tcpPort);
    badJson.write('7#{"id":1');
    badJson.write('#junk');
    await badJson.closed;

    const raw = new RawTcp(app.tcpPort);
    // No pattern, an unknown pattern: Nest's own error, nothing counted.
    raw.frame({ id: 'a', data: 1 });
    raw.frame({ id: 'b', pattern: 'nope', data: 1 });
    // The same handler, its pattern spelled as an object, as JSON text, and with odd data: one count.
    raw.frame({ id: 'c', pattern: { cmd: 'sum' }, data: { not: 'an array' } });
    raw.frame({ id: 'd', pattern: '{"cmd":"sum"}', data: [[[[[['deep']]]]]] });
    raw.frame({ id: 'e', pattern: { cmd: 'sum' }, data: null });
    await until(() => raw.replies.length === 5);
    const byId = Object.fromEntries(raw.replies.map((reply) => [(reply as { id: string }).id, reply]));
    expect(byId['a']).toMatchObject({ status: 'error', err: expect.stringContaining('no matching message handler') });
    expect(byId['b']).toMatchObject({ status: 'error', err: expect.stringContaining('no matching message handler') });
    expect(byId['c']).toMatchObject({ response: null, isDisposed: true });
    expect(byId['d']).toMatchObject({ isDisposed: true });
    expect(byId['d']).not.toHaveProperty('err');
    expect(byId['e']).toMatchObject({ err: { code: 'RATE_LIMITED', rule: 'default' }, isDisposed: true });
    // The well-behaved client on the same address is limited too, and the server still answers.
    await expect(send(SUM)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(await send('free', 'ok')).toBe('ok');
    raw.destroy();
  });
});

describe('a microservice on its own (NestFactory.createMicroservice)', () => {
  it('is limited by the global guard without a hybrid app', async () => {
    const { client, close } = await startTcpMicroservice({ rules: [RULE], clock: new FakeClock() }, [TcpController]);
    try {
      expect(await firstValueFrom(client.send(SUM, [1]))).toBe(1);
      expect(await firstValueFrom(client.send(SUM, [2]))).toBe(2);
      await expect(firstValueFrom(client.send(SUM, [3]))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    } finally {
      await close();
    }
  });
});
