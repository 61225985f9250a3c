import { jwtIdentity } from '../../lib/jwt/index.js';
import type { RateLimitModuleOptions } from '../../lib/index.js';
import { FORGED_SECRET, bearer, SECRET, token } from '../e2e/identity-groups/groups.app.js';
import { FakeClock } from '../support/fake-clock.js';
import { attempt, startWsApp, WS_ADAPTERS, type TestClient, type WsTestApp } from './ws.app.js';

const INVALID = 'The bearer token is invalid or has expired. Sign in again to get a new one.';

describe.each(WS_ADAPTERS)('WebSocket gateways with jwtIdentity on %s', (adapter) => {
  let clock: FakeClock;
  let t: WsTestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (options: RateLimitModuleOptions = {}) => {
    clock = new FakeClock();
    const identity = jwtIdentity({ secret: SECRET, algorithms: ['HS256'], clock });
    return (t = await startWsApp(adapter, { clock, escalation: false, groups: { admin: { unlimited: true } }, ...identity, ...options }));
  };
  /** The events answering `n` `ping` messages. */
  const pings = async (client: TestClient, n: number) => {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      client.send('ping', i);
      const reply = await client.next();
      out.push(reply.event === 'exception' ? (reply.data as { code: string }).code : reply.event);
    }
    return out;
  };

  it("counts each message by the user of its connection's upgrade request, admins never", async () => {
    const app = await start();
    const alice = bearer(await token(clock, { sub: 'alice' }));
    const first = await app.connect(alice);
    const second = await app.connect(alice);
    expect(await pings(first, 1)).toEqual(['pong']);
    expect(await pings(second, 2)).toEqual(['pong', 'RATE_LIMITED']);
    expect(await pings(await app.connect(bearer(await token(clock, { sub: 'bob' }))), 2)).toEqual(['pong', 'pong']);
    expect(await pings(await app.connect(bearer(await token(clock, { sub: 'root', group: 'admin' }))), 5)).toEqual(['pong', 'pong', 'pong', 'pong', 'pong']);
  });

  it('refuses the counted messages of a forged token with UNAUTHENTICATED, and keeps the connection open', async () => {
    const app = await start();
    const client = await app.connect(bearer(await token(clock, { sub: 'root', group: 'admin' }, FORGED_SECRET)));
    client.send('ping', 1);
    expect(await client.next()).toEqual({ event: 'exception', data: { status: 'error', code: 'UNAUTHENTICATED', message: INVALID } });
    // A handler no rule counts: bans and lists only, by the address.
    client.send('free', 2);
    expect(await client.next()).toEqual({ event: 'free', data: 2 });
    expect(client.isOpen).toBe(true);
  });

  it('refuses the handshake of a forged token where connections are counted', async () => {
    const app = await start({ websockets: { connectionRate: { limit: 10, windowMs: 60_000 } } });
    const refused = await attempt(app, bearer(await token(clock, { sub: 'root', group: 'admin' }, FORGED_SECRET)));
    expect(refused).toMatchObject({ refused: { status: 'error', code: 'UNAUTHENTICATED', message: INVALID } });
    expect(await attempt(app, bearer(await token(clock, { sub: 'alice' })))).toHaveProperty('admitted');
  });
});
