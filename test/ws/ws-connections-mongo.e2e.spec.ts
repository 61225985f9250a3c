import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import WebSocket from 'ws';
import { RateLimitService } from '../../lib/index.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, mongoConnections } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { attempt, startWsApp, WS_ADAPTERS, type WsTestApp } from './ws.app.js';

const LEASE_MS = 30_000;

describeMongo('WebSocket connection limits on the Mongo storage', () => {
  const { dbName } = mongoConnections('ws_connections');
  const apps: WsTestApp[] = [];
  let child: ChildProcess | undefined;
  let run = 0;

  afterEach(async () => {
    child?.kill('SIGKILL');
    child = undefined;
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  /** A week after the last run's clock: runs share the database. */
  const freshClock = () => new FakeClock(Date.UTC(2030, 0, 1) + ++run * 7 * 24 * 3_600_000);
  const instance = async (adapter: (typeof WS_ADAPTERS)[number], clock: FakeClock, maxConnections: number) => {
    const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock });
    const app = await startWsApp(adapter, { clock, storage, leaseMs: LEASE_MS, websockets: { maxConnections } });
    apps.push(app);
    return app;
  };

  it.each(WS_ADAPTERS)('counts a client’s connections across two instances on %s', async (adapter) => {
    const clock = freshClock();
    const [a, b] = [await instance(adapter, clock, 2), await instance(adapter, clock, 2)];
    expect(await attempt(a)).toHaveProperty('admitted');
    expect(await attempt(b)).toHaveProperty('admitted');
    expect(await attempt(a)).toMatchObject({ refused: { code: 'TOO_MANY_CONNECTIONS' } });
    expect(await attempt(b)).toMatchObject({ refused: { code: 'TOO_MANY_CONNECTIONS' } });
  });

  it.each(WS_ADAPTERS)('closes an idle socket on %s once its instance learns of a ban another instance made', async (adapter) => {
    const clock = freshClock();
    const [a, b] = [await instance(adapter, clock, 5), await instance(adapter, clock, 5)];
    const attempted = await attempt(b);
    if (!('admitted' in attempted)) throw new Error('the first connection was refused');
    const idle = attempted.admitted;
    await a.app.get(RateLimitService).ban({ type: 'key', key: '127.0.0.1' }, 'temporary', 5 * 60_000, 'abuse', 'ops');
    // B learns of it at its next poll (made now, rather than waiting for the interval): the socket,
    // which sends nothing, is closed at once.
    await b.app.get(RateLimitService).syncNow();
    expect(await idle.next()).toMatchObject({ event: 'exception', data: { code: 'BLOCKED', retryAfterSeconds: 300 } });
    expect(await idle.closed).toBe(adapter === 'ws' ? 1008 : 'io server disconnect');
  });

  it.each(WS_ADAPTERS)('closes the sockets a deny-list entry covers on %s, and spares allow-listed clients', async (adapter) => {
    const clock = freshClock();
    const app = await instance(adapter, clock, 5);
    const service = app.app.get(RateLimitService);
    const attempted = await attempt(app);
    if (!('admitted' in attempted)) throw new Error('the first connection was refused');
    await service.putAccessEntry('allow', '127.0.0.1', 'ops');
    await service.putAccessEntry('deny', '127.0.0.0/8', 'ops');
    // Still served: an allow-listed client is not refused by a deny-list entry.
    attempted.admitted.send('free', 'still here');
    expect(await attempted.admitted.next()).toEqual({ event: 'free', data: 'still here' });
    await service.removeAccessEntry('allow', '127.0.0.1');
    await service.putAccessEntry('deny', '127.0.0.0/16', 'ops');
    expect(await attempted.admitted.next()).toMatchObject({ event: 'exception', data: { code: 'BANNED' } });
    expect(await attempted.admitted.closed).toBe(adapter === 'ws' ? 1008 : 'io server disconnect');
    await service.removeAccessEntry('deny', '127.0.0.0/8');
    await service.removeAccessEntry('deny', '127.0.0.0/16');
  });

  it.each(WS_ADAPTERS)(
    'refuses new connections while MongoDB is unreachable (fail closed), and admits them with onStoreError allow, on %s',
    async (adapter) => {
      const clock = freshClock();
      // Nothing listens on port 1: every command fails once server selection gives up.
      const unreachable = () =>
        mongoStorage({ uri: 'mongodb://127.0.0.1:1/', connectOptions: { dbName, serverSelectionTimeoutMS: 100 }, sweepIntervalMs: false, clock });
      const base = { clock, storeTimeoutMs: 200, storeStartupTimeoutMs: 100, leaseMs: LEASE_MS };
      const closed = await startWsApp(adapter, { ...base, storage: unreachable(), websockets: { maxConnections: 5 } });
      apps.push(closed);
      expect(await attempt(closed)).toMatchObject({ refused: { code: 'UNAVAILABLE', retryAfterSeconds: 1 } });
      const open = await startWsApp(adapter, { ...base, storage: unreachable(), websockets: { maxConnections: 5, onStoreError: 'allow' } });
      apps.push(open);
      expect(await attempt(open)).toHaveProperty('admitted');
    },
  );

  it('frees the slots of an instance killed without a goodbye once its leases lapse (leaseMs)', async () => {
    const clock = freshClock();
    child = spawn(process.execPath, [join(__dirname, 'ws-instance.child.mjs')], {
      env: { ...process.env, MONGO_URL: mongoUrl(), DB_NAME: dbName, CLOCK_MS: String(clock.now()), MAX_CONNECTIONS: '2', LEASE_MS: String(LEASE_MS) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit').then(() => {
      throw new Error('The instance exited before it listened: is the package built (npm run build)? Its error is above.');
    });
    const [line] = (await Promise.race([once(child.stdout!, 'data'), exited])) as [Buffer];
    const { port } = JSON.parse(String(line)) as { port: number };
    const sockets = await Promise.all(
      [1, 2].map(
        (i) =>
          new Promise<WebSocket>((resolve, reject) => {
            const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
            socket.once('open', () => socket.send(JSON.stringify({ event: 'free', data: i })));
            socket.once('message', () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    const survivor = await instance('ws', clock, 2);
    expect(await attempt(survivor)).toMatchObject({ refused: { code: 'TOO_MANY_CONNECTIONS' } });

    child.kill('SIGKILL');
    await once(child, 'exit');
    await Promise.all(sockets.map((socket) => (socket.readyState === WebSocket.CLOSED ? undefined : once(socket, 'close'))));
    // Its leases outlive it by leaseMs: still taken just before, free from then on.
    clock.advance(LEASE_MS - 1);
    expect(await attempt(survivor)).toMatchObject({ refused: { code: 'TOO_MANY_CONNECTIONS' } });
    clock.advance(1);
    expect(await attempt(survivor)).toHaveProperty('admitted');
    expect(await attempt(survivor)).toHaveProperty('admitted');
    expect(await attempt(survivor)).toMatchObject({ refused: { code: 'TOO_MANY_CONNECTIONS' } });
  });
});
