import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RateLimitService, type RateLimitModuleOptions } from '../../../lib/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { peerModule, tally } from './peer.app.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Sends a request on a raw connection and resets the connection (TCP RST) as soon as it is written:
 * a POST with a JSON body held up by the app's slow guard, or a GET held up by its slow middleware.
 */
async function sendThenReset(port: number, kind: 'post-body' | 'get'): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const body = JSON.stringify({ name: 'x'.repeat(64) });
  socket.write(
    kind === 'post-body'
      ? `POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Wait-For-Close: guard\r\n\r\n${body}`
      : `GET /items HTTP/1.1\r\nHost: localhost\r\nX-Wait-For-Close: middleware\r\n\r\n`,
  );
  await new Promise<void>((resolve) => socket.write('', () => resolve()));
  socket.resetAndDestroy();
}

/** Waits (turns of the event loop, no timer) until the app settled `n` requests. */
async function settled(n: number): Promise<void> {
  while (tally.settled < n) await new Promise((resolve) => setImmediate(resolve));
}

describe.each(ADAPTERS)('requests whose connection is reset on %s', (adapter) => {
  let t: TestApp;
  let port: number;
  beforeEach(async () => {
    tally.handled = 0;
    tally.refused = [];
    t = await startApp(adapter, peerModule({ clock: new FakeClock(), logger: silent }));
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterEach(() => t.close());

  it.each(['post-body', 'get'] as const)('are refused by a ban on the range they came from (%s)', async (kind) => {
    await t.app.get(RateLimitService).ban({ type: 'cidr', cidr: '127.0.0.0/8' }, 'permanent', undefined, 'abuse', 'ops');
    for (let i = 0; i < 20; i++) await sendThenReset(port, kind);
    await settled(20);
    expect(tally).toMatchObject({ handled: 0, refused: Array(20).fill(403) });
  });

  it('are refused by a deny-list entry of the range they came from', async () => {
    await t.app.get(RateLimitService).putAccessEntry('deny', '127.0.0.0/8', 'ops');
    for (let i = 0; i < 5; i++) await sendThenReset(port, 'post-body');
    await settled(5);
    expect(tally).toMatchObject({ handled: 0, refused: Array(5).fill(403) });
  });

  it('are counted under their own address', async () => {
    for (let i = 0; i < 3; i++) await sendThenReset(port, 'post-body');
    await settled(3);
    expect(tally.handled).toBe(3);
    // The next request of this address finds the three reset ones counted.
    await t.http().post('/items').send({}).expect(201).expect('ratelimit', '"default";r=96;t=60');
  });
});

/** A GET on a Unix socket: its status and RateLimit header. */
function getOnSocket(socketPath: string, headers: Record<string, string>): Promise<{ status: number; ratelimit: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, path: '/items', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ratelimit: res.headers['ratelimit'] as string | undefined }));
    });
    req.on('error', reject).end();
  });
}

describe.each(ADAPTERS)('an app on a Unix socket on %s', (adapter) => {
  let t: TestApp;
  let warnings: string[];
  const socketPath = join(tmpdir(), `rampart-peer-${process.pid}-${adapter}.sock`);

  async function listen(options: RateLimitModuleOptions): Promise<void> {
    warnings = [];
    const logger = { log: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    // The event log off: these tests read the warnings about the socket alone.
    t = await startApp(adapter, peerModule({ clock: new FakeClock(), logger, logging: false, ...options }));
    const server = t.app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  }
  afterEach(() => t.close());

  it('warns at startup, without trustProxy.hops, that no client address can be known', async () => {
    await listen({});
    expect(warnings).toEqual([expect.stringContaining(`Listening on ${JSON.stringify(socketPath)}, a Unix socket or pipe`)]);
    expect(warnings[0]).toContain('trustProxy: { hops: 1 }');
  });

  it('with trustProxy.hops, names each client by the forwarded header of the proxy on the socket', async () => {
    await listen({ trustProxy: { hops: 1 } });
    await t.app.get(RateLimitService).ban({ type: 'cidr', cidr: '203.0.113.5' }, 'permanent', undefined, 'abuse', 'ops');
    expect((await getOnSocket(socketPath, { 'x-forwarded-for': '203.0.113.5' })).status).toBe(403);
    expect(await getOnSocket(socketPath, { 'x-forwarded-for': '203.0.113.6' })).toEqual({ status: 200, ratelimit: '"default";r=99;t=60' });
    expect(await getOnSocket(socketPath, { 'x-forwarded-for': '203.0.113.7' })).toEqual({ status: 200, ratelimit: '"default";r=99;t=60' });
    expect(warnings).toEqual([]);
  });
});
