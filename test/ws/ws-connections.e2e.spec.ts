import type { ExecutionContext } from '@nestjs/common';
import { connect as tcpConnect } from 'node:net';
import { Rampart, memoryStorage } from '../../lib/index.js';
import type { LeaseStore } from '../../lib/storage/lease-store.interface.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';
import { attempt, startWsApp, WS_ADAPTERS, type Attempt, type WsTestApp } from './ws.app.js';

const MINUTE = 60_000;

/** The user a client names in its handshake: socket.io's headers, or the ws upgrade request's. */
const userOf = (context: ExecutionContext): string | undefined => {
  const client = context.switchToWs().getClient<{ handshake?: { headers: Record<string, string> } }>();
  const headers = client.handshake?.headers ?? context.getArgByIndex<{ headers?: Record<string, string> } | undefined>(1)?.headers;
  return headers?.['x-user'];
};

const admitted = (a: Attempt) => {
  if (!('admitted' in a)) throw new Error(`refused: ${JSON.stringify(a.refused)}`);
  return a.admitted;
};

const SETUPS = WS_ADAPTERS.flatMap((adapter) => (['express', 'fastify'] as const).map((platform) => [adapter, platform] as const));

describe.each(SETUPS)('WebSocket connection limits on %s (%s)', (adapter, platform) => {
  let clock: FakeClock;
  let t: WsTestApp | undefined;
  const refusedClose = adapter === 'ws' ? 1008 : 'connect_error';

  beforeEach(() => {
    clock = new FakeClock();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const start = async (options = {}) => (t = await startWsApp(adapter, { clock, ...options }, platform));
  const heldBy = (app: WsTestApp, clientKey: string) => app.app.get(Rampart).leases.count(`ws-connections:${clientKey}`);

  it('admits at most maxConnections open connections per client, and one more once one closes', async () => {
    const app = await start({ websockets: { maxConnections: 2 } });
    const first = admitted(await attempt(app));
    admitted(await attempt(app));
    expect(await attempt(app)).toEqual({
      refused: { status: 'error', code: 'TOO_MANY_CONNECTIONS', message: 'Too many open connections: at most 2 per client. Close one and connect again.' },
      close: refusedClose,
    });
    expect(await heldBy(app, '127.0.0.1')).toBe(2);
    first.close();
    const leases = app.app.get(Rampart).leases;
    await until(() => leases.size === 1);
    admitted(await attempt(app));
    expect(await heldBy(app, '127.0.0.1')).toBe(2);
  });

  it("counts each client's connections apart (its identity from the handshake)", async () => {
    const app = await start({ websockets: { maxConnections: 1 }, keyResolver: userOf });
    admitted(await attempt(app, { 'x-user': 'alice' }));
    expect(await attempt(app, { 'x-user': 'alice' })).toMatchObject({ refused: { code: 'TOO_MANY_CONNECTIONS' } });
    admitted(await attempt(app, { 'x-user': 'bob' }));
  });

  it('refuses a new connection beyond connectionRate with RATE_LIMITED, until the window has passed', async () => {
    const app = await start({ websockets: { connectionRate: { limit: 3, windowMs: MINUTE, algorithm: 'fixed-window' } } });
    for (let i = 0; i < 3; i++) admitted(await attempt(app)).close();
    expect(await attempt(app)).toEqual({
      refused: {
        status: 'error',
        code: 'RATE_LIMITED',
        rule: 'ws-connections',
        retryAfterSeconds: 60,
        message: "Rate limit 'ws-connections' exceeded: at most 3 requests per 60 s. Retry in 60 s.",
      },
      close: refusedClose,
    });
    clock.advance(MINUTE);
    admitted(await attempt(app));
  });

  it('escalates refused handshakes like any violation: the client is then blocked', async () => {
    const app = await start({
      websockets: { connectionRate: { limit: 1, windowMs: MINUTE, algorithm: 'fixed-window' } },
      escalation: { blockAfterViolations: 1, blockDurationMs: 10 * MINUTE },
    });
    const open = admitted(await attempt(app));
    expect(await attempt(app)).toMatchObject({ refused: { code: 'BLOCKED', retryAfterSeconds: 600 } });
    // The block closes the connection the client had open (it never sent a message after its first).
    expect(await open.closed).toBe(adapter === 'ws' ? 1008 : 'io server disconnect');
    clock.advance(MINUTE);
    expect(await attempt(app)).toMatchObject({ refused: { code: 'BLOCKED' } });
  });

  it('fails closed while the lease store is down (websockets.onStoreError: deny by default), open with allow', async () => {
    const failing = (): LeaseStore => ({
      acquire: () => Promise.reject(new Error('lease store down')),
      release: () => Promise.resolve(),
      renew: () => Promise.resolve(),
      releaseHolder: () => Promise.resolve(),
      count: () => Promise.resolve(0),
    });
    const closed = await start({ storage: { ...memoryStorage(), leases: failing() }, websockets: { maxConnections: 5 } });
    expect(await attempt(closed)).toMatchObject({ refused: { code: 'UNAVAILABLE', retryAfterSeconds: 1 }, close: refusedClose });
    await closed.close();
    const open = await start({ storage: { ...memoryStorage(), leases: failing() }, websockets: { maxConnections: 5, onStoreError: 'allow' } });
    admitted(await attempt(open));
  });

  it('cannot dodge its limit with a forged X-Forwarded-For from an untrusted peer', async () => {
    const app = await start({ websockets: { maxConnections: 1 } });
    admitted(await attempt(app, { 'x-forwarded-for': '203.0.113.1' }));
    expect(await attempt(app, { 'x-forwarded-for': '203.0.113.2' })).toMatchObject({ refused: { code: 'TOO_MANY_CONNECTIONS' } });
  });

  it('refuses (and logs) a handshake its keyResolver cannot read, never lets it through, and stays up', async () => {
    const errors: string[] = [];
    const app = await start({
      websockets: { maxConnections: 1 },
      keyResolver: (context: ExecutionContext) => {
        const user = userOf(context);
        if (user === 'malformed') throw new Error('cannot parse the token');
        return user;
      },
      logger: { log() {}, warn() {}, error: (m: string) => errors.push(m) },
    });
    expect(await attempt(app, { 'x-user': 'malformed' })).toMatchObject({
      refused: { code: 'UNAVAILABLE', message: 'The connection could not be checked. Try again.' },
    });
    expect(errors.join('\n')).toMatch(/A WebSocket handshake could not be checked and was refused: Error: cannot parse the token/);
    admitted(await attempt(app, { 'x-user': 'fine' }));
  });

  it('answers a malformed upgrade request without a crash, and serves the next client', async () => {
    const app = await start({ websockets: { maxConnections: 1 } });
    const { port } = app.app.getHttpServer().address() as { port: number };
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tcpConnect(port, '127.0.0.1', () =>
        socket.write(
          adapter === 'ws'
            ? 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: not-a-key\r\nSec-WebSocket-Version: 99\r\n\r\n'
            : 'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: not-a-key\r\n\r\n',
        ),
      );
      let text = '';
      socket.on('data', (chunk) => (text += String(chunk)));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => socket.destroy(), 1_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    admitted(await attempt(app));
    expect(app.app.get(Rampart).leases.size).toBe(1);
  });

  if (adapter === 'ws') {
    it('hands the gateway the messages a client sent while its handshake was decided, in order', async () => {
      let admit: () => void = () => undefined;
      const decided = new Promise<void>((resolve) => (admit = resolve));
      const app = await start({ keyResolver: async () => (await decided, 'slow-user') });
      const client = await app.connect();
      for (let i = 0; i < 3; i++) client.send('free', i);
      // Give the messages time to reach the server (not a rate-limit window: nothing here waits on the clock).
      await new Promise((resolve) => setTimeout(resolve, 100));
      admit();
      for (let i = 0; i < 3; i++) expect(await client.next()).toEqual({ event: 'free', data: i });
    });
  }

  if (adapter === 'socket.io') {
    it('gives the refusal to the client as connect_error: its message, and the whole error as data', async () => {
      const app = await start({ websockets: { maxConnections: 1 } });
      admitted(await attempt(app));
      await expect(app.connect()).rejects.toMatchObject({
        message: 'Too many open connections: at most 1 per client. Close one and connect again.',
        data: { status: 'error', code: 'TOO_MANY_CONNECTIONS' },
      });
    });
  }
});
