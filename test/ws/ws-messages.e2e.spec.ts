import type { ExecutionContext } from '@nestjs/common';
import { RateLimitService } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { startWsApp, WS_ADAPTERS, type TestClient, type WsTestApp } from './ws.app.js';

const MINUTE = 60_000;

describe.each(WS_ADAPTERS)('WebSocket gateway messages on %s', (adapter) => {
  let clock: FakeClock;
  let t: WsTestApp | undefined;

  beforeEach(() => {
    clock = new FakeClock();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (options = {}) => (t = await startWsApp(adapter, { clock, ...options }));
  const exchange = async (client: TestClient, event: string, data: unknown = 1) => {
    client.send(event, data);
    return client.next();
  };

  it('refuses messages beyond the limit with RATE_LIMITED and keeps the connection open', async () => {
    const client = await (await start()).connect();
    expect(await exchange(client, 'ping', 1)).toEqual({ event: 'pong', data: 1 });
    expect(await exchange(client, 'ping', 2)).toEqual({ event: 'pong', data: 2 });
    expect(await exchange(client, 'ping', 3)).toEqual({
      event: 'exception',
      data: {
        status: 'error',
        code: 'RATE_LIMITED',
        rule: 'default',
        retryAfterSeconds: 60,
        message: "Rate limit 'default' exceeded: at most 2 requests per 60 s. Retry in 60 s.",
      },
    });
    expect(client.isOpen).toBe(true);
    clock.advance(MINUTE);
    expect(await exchange(client, 'ping', 4)).toEqual({ event: 'pong', data: 4 });
  });

  it('never limits a @SkipThrottle() handler', async () => {
    const client = await (await start()).connect();
    for (let i = 0; i < 6; i++) expect(await exchange(client, 'free', i)).toEqual({ event: 'free', data: i });
  });

  it("applies a handler's @Throttle over the module's rule", async () => {
    const client = await (await start()).connect();
    for (let i = 0; i < 4; i++) expect(await exchange(client, 'burst', i)).toEqual({ event: 'burst', data: i });
    expect(await exchange(client, 'burst', 5)).toMatchObject({ event: 'exception', data: { code: 'RATE_LIMITED', rule: 'default' } });
    // Counted per handler: `ping` has its own count.
    expect(await exchange(client, 'ping', 6)).toEqual({ event: 'pong', data: 6 });
  });

  it('refuses the messages of a banned client and closes its open connections', async () => {
    const app = await start();
    const open = await app.connect();
    expect(await exchange(open, 'ping')).toEqual({ event: 'pong', data: 1 });
    await app.app.get(RateLimitService).ban({ type: 'key', key: '127.0.0.1' }, 'permanent', undefined, 'abuse', 'ops');
    expect(await open.next()).toMatchObject({ event: 'exception', data: { status: 'error', code: 'BANNED' } });
    expect(await open.closed).toBe(adapter === 'ws' ? 1008 : 'io server disconnect');

    // A banned client's new connection is refused at the handshake: ws opens it to send the error,
    // then closes it with 1008; socket.io refuses it with a connect_error.
    const banned = { status: 'error', code: 'BANNED', message: 'This client is banned. Ask the operator of this service to lift the ban.' };
    if (adapter === 'socket.io') {
      await expect(app.connect()).rejects.toMatchObject({ message: banned.message, data: banned });
      return;
    }
    const later = await app.connect();
    expect(await exchange(later, 'free')).toEqual({ event: 'exception', data: banned });
    expect(await later.closed).toBe(1008);
  });

  it('closes the connection (1008 on ws) when escalation blocks the client', async () => {
    const client = await (await start({ escalation: { blockAfterViolations: 1, blockDurationMs: 15 * MINUTE } })).connect();
    await exchange(client, 'ping');
    await exchange(client, 'ping');
    expect(await exchange(client, 'ping')).toMatchObject({ event: 'exception', data: { status: 'error', code: 'BLOCKED', retryAfterSeconds: 900 } });
    expect(await client.closed).toBe(adapter === 'ws' ? 1008 : 'io server disconnect');
    // One error, then the close.
    expect(client.unread).toBe(0);
  });

  it('closes the open connections of every client in a banned range', async () => {
    const app = await start();
    const client = await app.connect();
    expect(await exchange(client, 'free')).toEqual({ event: 'free', data: 1 });
    await app.app.get(RateLimitService).ban({ type: 'cidr', cidr: '127.0.0.0/8' }, 'temporary', 5 * MINUTE, 'abuse', 'ops');
    expect(await client.next()).toMatchObject({ event: 'exception', data: { status: 'error', code: 'BLOCKED', retryAfterSeconds: 300 } });
    expect(await client.closed).toBe(adapter === 'ws' ? 1008 : 'io server disconnect');
  });

  it("keeps a client's sockets open in the module's shadow mode: a ban, a range ban, a deny-list entry or a block is reported, not enforced", async () => {
    const app = await start({ shadow: true, escalation: { blockAfterViolations: 1, blockDurationMs: 15 * MINUTE } });
    const client = await app.connect();
    const service = app.app.get(RateLimitService);
    await service.ban({ type: 'key', key: '127.0.0.1' }, 'permanent', undefined, 'abuse', 'ops');
    await service.ban({ type: 'cidr', cidr: '127.0.0.0/8' }, 'temporary', 5 * MINUTE, 'abuse', 'ops');
    await service.putAccessEntry('deny', '127.0.0.1/32', 'ops');
    // Over the limit three times: a shadow violation, then a shadow block.
    for (let i = 1; i <= 4; i++) expect(await exchange(client, 'ping', i)).toEqual({ event: 'pong', data: i });
    expect(await exchange(client, 'free')).toEqual({ event: 'free', data: 1 });
    expect(client.isOpen).toBe(true);
    expect(client.unread).toBe(0);
  });

  it('ignores a forwarded header from an untrusted peer', async () => {
    const app = await start();
    const a = await app.connect({ 'x-forwarded-for': '203.0.113.1' });
    const b = await app.connect({ 'x-forwarded-for': '203.0.113.2' });
    await exchange(a, 'ping');
    await exchange(a, 'ping');
    // Both are the loopback peer: one count.
    expect(await exchange(b, 'ping')).toMatchObject({ event: 'exception', data: { code: 'RATE_LIMITED' } });
  });

  it('uses a forwarded header from a trusted proxy (loopback)', async () => {
    const app = await start({ trustProxy: { proxies: ['loopback'] } });
    const a = await app.connect({ 'x-forwarded-for': '203.0.113.1' });
    const b = await app.connect({ 'x-forwarded-for': '203.0.113.2' });
    await exchange(a, 'ping');
    await exchange(a, 'ping');
    expect(await exchange(a, 'ping')).toMatchObject({ event: 'exception', data: { code: 'RATE_LIMITED' } });
    expect(await exchange(b, 'ping')).toEqual({ event: 'pong', data: 1 });
    // The forwarded address is the client: a ban on it refuses b's messages, not a's.
    await app.app.get(RateLimitService).ban({ type: 'key', key: '203.0.113.2' }, 'permanent', undefined, 'abuse', 'ops');
    expect(await b.next()).toMatchObject({ event: 'exception', data: { code: 'BANNED' } });
    expect(a.isOpen).toBe(true);
  });

  it("counts by the module's keyResolver, which reads the handshake (socket.io's auth payload, a ws handshake header)", async () => {
    const keyResolver = (context: ExecutionContext) => {
      const client = context.switchToWs().getClient<{ handshake?: { auth?: { user?: string } } }>();
      return client.handshake?.auth?.user;
    };
    const app = await start({ keyResolver });
    if (adapter === 'ws') {
      // A ws client keeps no handshake: without a key from the resolver, the client is its address.
      const client = await app.connect();
      await exchange(client, 'ping');
      await exchange(client, 'ping');
      expect(await exchange(client, 'ping')).toMatchObject({ event: 'exception', data: { code: 'RATE_LIMITED' } });
      return;
    }
    const alice = await app.connect({}, { user: 'alice' });
    const bob = await app.connect({}, { user: 'bob' });
    await exchange(alice, 'ping');
    await exchange(alice, 'ping');
    expect(await exchange(alice, 'ping')).toMatchObject({ event: 'exception', data: { code: 'RATE_LIMITED' } });
    // Same address, another identity: a count of its own.
    expect(await exchange(bob, 'ping')).toEqual({ event: 'pong', data: 1 });
  });

  it('survives malformed payloads and unknown events', async () => {
    const client = await (await start()).connect();
    client.raw('not json');
    client.raw('{"event":"ping","data":');
    client.raw('{"event":"nope","data":1}');
    client.raw('null');
    client.send('unknown-event', { a: 1 });
    client.send('ping', undefined);
    expect(await client.next()).toMatchObject({ event: 'pong' });
    expect(await exchange(client, 'free', 'still here')).toEqual({ event: 'free', data: 'still here' });
    expect(client.isOpen).toBe(true);
  });
});
