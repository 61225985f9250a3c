import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, mongoConnections } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { Rampart } from '../../lib/index.js';
import type { RampartGraphqlOptions } from '../../lib/graphql/index.js';
import { until } from '../support/until.js';
import { GRAPHQL_DRIVERS, startGraphqlApp, type GraphqlTestApp } from './graphql.app.js';
import { wsClient } from './graphql-ws.client.js';
import { errorsByPath, gql } from './support.js';

describeMongo('GraphQL on the Mongo storage', () => {
  const { dbName } = mongoConnections('graphql');
  let weeks = 0;
  let t: GraphqlTestApp | undefined;

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** Each run a week after the last (they share the database). */
  const startOn = async (driver: (typeof GRAPHQL_DRIVERS)[number], limits: RampartGraphqlOptions = {}) => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1) + ++weeks * 7 * 24 * 3_600_000);
    const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock });
    t = await startGraphqlApp(driver, { clock, storage, escalation: false }, limits);
    return { clock, url: t.url, wsUrl: t.wsUrl };
  };

  it.each(GRAPHQL_DRIVERS)('limits a query field on %s, and admits it again once the window has passed', async (driver) => {
    const { clock, url } = await startOn(driver);
    for (let i = 0; i < 3; i++) expect((await gql(url, '{ hello }')).body).toEqual({ data: { hello: 'hi' } });
    const refused = await gql(url, '{ hello free }');
    expect(refused.body.data).toEqual({ hello: null, free: 'free' });
    expect(errorsByPath(refused.body)).toEqual({ hello: expect.objectContaining({ code: 'RATE_LIMITED', rule: 'default', retryAfterSeconds: 60 }) });
    expect(refused.headers.get('retry-after')).toBe('60');
    clock.advance(60_000);
    expect((await gql(url, '{ hello }')).body).toEqual({ data: { hello: 'hi' } });
  });

  it.each(GRAPHQL_DRIVERS)('charges the complexity budget on %s', async (driver) => {
    const { url } = await startOn(driver, { budget: { limit: 25, windowMs: 60_000, algorithm: 'fixed-window' }, fieldCosts: { 'Query.free': 10 } });
    expect((await gql(url, '{ free }')).status).toBe(200);
    expect((await gql(url, '{ free }')).status).toBe(200);
    const refused = await gql(url, '{ free }');
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', rule: 'complexity' });
  });

  it.each(GRAPHQL_DRIVERS)('holds maxConnectionsPerClient with leases in MongoDB on %s', async (driver) => {
    const { wsUrl } = await startOn(driver, { maxConnectionsPerClient: 1, connectionRules: [] });
    const first = wsClient(wsUrl);
    try {
      await first.connected;
      const refused = wsClient(wsUrl);
      expect(await refused.closed).toMatchObject({ code: 4429, reason: expect.stringMatching(/^TOO_MANY_CONNECTIONS: /) });
      await first.dispose();
      const leases = (t as GraphqlTestApp).app.get(Rampart).leases;
      await until(() => leases.size === 0);
      const next = wsClient(wsUrl);
      await next.connected;
      await next.dispose();
    } finally {
      await first.dispose();
    }
  });
});
