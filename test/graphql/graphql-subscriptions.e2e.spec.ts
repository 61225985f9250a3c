import { memoryStorage, Rampart, RateLimitService, type RateLimitModuleOptions } from '../../lib/index.js';
import { CONNECTION_REFUSED_CLOSE_CODE, type RampartGraphqlOptions } from '../../lib/graphql/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';
import { GRAPHQL_DRIVERS, posts, startGraphqlApp, ticks, type GraphqlTestApp } from './graphql.app.js';
import { wsClient, type Subscriptions, type TestWsClient } from './graphql-ws.client.js';
import { gql } from './support.js';

const MINUTE = 60_000;

describe.each(GRAPHQL_DRIVERS)('GraphQL subscriptions over graphql-ws on %s', (driver) => {
  let clock: FakeClock;
  let t: GraphqlTestApp | undefined;
  const clients: TestWsClient[] = [];

  beforeEach(() => {
    clock = new FakeClock();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await t?.close();
    t = undefined;
  });

  const start = async (options: RateLimitModuleOptions = {}, limits: RampartGraphqlOptions = {}) =>
    (t = await startGraphqlApp(driver, { clock, escalation: false, ...options }, limits));
  const connect = (url: string, headers?: Record<string, string>) => {
    const client = wsClient(url, undefined, headers);
    clients.push(client);
    return client;
  };
  /** Subscribes to `ticks`, and waits until the server listens for its events. */
  const subscribeTicks = async (client: TestWsClient) => {
    const before = ticks.subscribers;
    const subscription = client.subscribe('subscription { ticks }');
    await until(() => ticks.subscribers > before);
    return subscription;
  };

  it("counts each event against the subscription's rules: one over the limit is replaced by RATE_LIMITED, the next window's are delivered", async () => {
    const { wsUrl } = await start();
    const client = connect(wsUrl);
    await client.connected;
    // @Throttle({ limit: 2 }): the subscription itself, then one event.
    const events = await subscribeTicks(client);
    ticks.emit(1);
    expect(await events.next()).toEqual({ data: { ticks: 1 } });
    ticks.emit(2);
    const refused = await events.next();
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors).toEqual([
      expect.objectContaining({
        message: "Rate limit 'default' exceeded: at most 2 requests per 60 s. Retry in 60 s.",
        extensions: { code: 'RATE_LIMITED', rule: 'default', retryAfterSeconds: 60 },
      }),
    ]);
    clock.advance(MINUTE);
    ticks.emit(3);
    expect(await events.next()).toEqual({ data: { ticks: 3 } });
  });

  it("counts a field resolver under a subscription's events once per event, for each subscriber apart (events share their payload)", async () => {
    const app = await start({ trustProxy: { proxies: ['loopback'] } }, { connectionRules: [] });
    // `comments`: @Throttle({ limit: 2 }); client A spends both in a query first.
    const asA = { 'x-forwarded-for': '203.0.113.1' };
    for (let i = 0; i < 2; i++) expect((await gql(app.url, '{ posts(first: 1) { comments { text } } }', undefined, asA)).body.errors).toBeUndefined();
    const a = connect(app.wsUrl, asA);
    const b = connect(app.wsUrl, { 'x-forwarded-for': '203.0.113.2' });
    await Promise.all([a.connected, b.connected]);
    const before = posts.subscribers;
    const [eventsA, eventsB] = [a, b].map((client) => client.subscribe('subscription { postAdded { id comments { text } } }'));
    await until(() => posts.subscribers === before + 2);
    const code = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.['code'] ?? 'data';
    const seen: Record<string, unknown[]> = { a: [], b: [] };
    for (let i = 1; i <= 3; i++) {
      posts.emit({ id: i, title: `post ${i}` });
      seen['a']?.push(code(await (eventsA as Subscriptions).next()));
      seen['b']?.push(code(await (eventsB as Subscriptions).next()));
    }
    // A is over its limit from the start; B gets two events' comments, then is refused on the third.
    expect(seen).toEqual({ a: ['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED'], b: ['data', 'data', 'RATE_LIMITED'] });
  });

  it('counts new connections against connectionRules and closes the one over the limit with 4429', async () => {
    const { wsUrl } = await start({}, { connectionRules: [{ name: 'connections', limit: 2, windowMs: MINUTE, algorithm: 'fixed-window' }] });
    await connect(wsUrl).connected;
    await connect(wsUrl).connected;
    const refused = connect(wsUrl);
    await expect(refused.connected).rejects.toThrow();
    const { code, reason } = await refused.closed;
    expect(code).toBe(CONNECTION_REFUSED_CLOSE_CODE);
    expect(code).toBe(4429);
    expect(reason).toMatch(/^RATE_LIMITED: Rate limit 'connections' exceeded/);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    clock.advance(MINUTE);
    await connect(wsUrl).connected;
  });

  it("counts connections by the module's rules by default, and refuses a banned client's with BANNED", async () => {
    const app = await start();
    await connect(app.wsUrl).connected;
    await app.app.get(RateLimitService).ban({ type: 'key', key: '127.0.0.1' }, 'permanent', undefined, 'abuse', 'ops');
    const refused = connect(app.wsUrl);
    const { code, reason } = await refused.closed;
    expect(code).toBe(4429);
    expect(reason).toMatch(/^BANNED: This client is banned/);
  });

  it('holds at most maxConnectionsPerClient connections open per client (leases), and frees a slot when one closes', async () => {
    const app = await start({}, { maxConnectionsPerClient: 2, connectionRules: [] });
    const leases = app.app.get(Rampart).leases;
    const first = connect(app.wsUrl);
    await first.connected;
    await connect(app.wsUrl).connected;
    const refused = connect(app.wsUrl);
    const { code, reason } = await refused.closed;
    expect(code).toBe(4429);
    expect(reason).toBe('TOO_MANY_CONNECTIONS: At most 2 open subscription connections per client: close one before opening another.');
    expect(leases.size).toBe(2);
    await first.dispose();
    await until(() => leases.size === 1);
    await connect(app.wsUrl).connected;
    expect(leases.size).toBe(2);
  });

  it('closes new connections while the lease store fails (connectionsOnStoreError: deny), or admits them uncounted (allow)', async () => {
    const failing = memoryStorage();
    const leases = failing.leases as NonNullable<typeof failing.leases>;
    leases.acquire = () => Promise.reject(new Error('lease store down'));
    const denying = await start({ storage: failing, logger: { log() {}, warn() {}, error() {} } }, { maxConnectionsPerClient: 2 });
    const { code, reason } = await connect(denying.wsUrl).closed;
    expect(code).toBe(4429);
    expect(reason).toMatch(/^UNAVAILABLE: /);
    await denying.close();
    const allowing = await start({ storage: failing }, { maxConnectionsPerClient: 2, connectionsOnStoreError: 'allow' });
    await connect(allowing.wsUrl).connected;
  });

  it('refuses a subscription too complex before it starts', async () => {
    const { wsUrl } = await start({}, { maxComplexity: 10, fieldCosts: { 'Subscription.ticks': 50 } });
    const client = connect(wsUrl);
    await client.connected;
    const before = ticks.subscribers;
    const subscription = client.subscribe('subscription { ticks }');
    await subscription.ended;
    expect(subscription.errors?.[0]).toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 10, actual: 50 } });
    expect(ticks.subscribers).toBe(before);
  });
});
