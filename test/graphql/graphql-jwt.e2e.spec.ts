import type { RampartGraphqlOptions } from '../../lib/graphql/index.js';
import { jwtIdentity } from '../../lib/jwt/index.js';
import { FORGED_SECRET, bearer, SECRET, token } from '../e2e/identity-groups/groups.app.js';
import { FakeClock } from '../support/fake-clock.js';
import { GRAPHQL_DRIVERS, startGraphqlApp, type GraphqlTestApp } from './graphql.app.js';
import { wsClient } from './graphql-ws.client.js';
import { errorsByPath, gql } from './support.js';

describe.each(GRAPHQL_DRIVERS)('GraphQL over HTTP with jwtIdentity on %s', (driver) => {
  let clock: FakeClock;
  let t: GraphqlTestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (limits: RampartGraphqlOptions = {}) => {
    clock = new FakeClock();
    const identity = jwtIdentity({ secret: SECRET, algorithms: ['HS256'], clock });
    t = await startGraphqlApp(driver, { clock, escalation: false, groups: { admin: { unlimited: true } }, ...identity }, limits);
    return t.url;
  };
  /** `n` operations `{ hello }` with `headers`: whether each got its data or which code refused it. */
  const hellos = async (url: string, n: number, headers: Record<string, string> = {}) => {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const { body } = await gql(url, '{ hello }', undefined, headers);
      out.push(body.data?.['hello'] ?? errorsByPath(body)['hello']?.['code']);
    }
    return out;
  };

  it('counts resolver fields per user, admins never, clients without a token by address; a forged admin token gets UNAUTHENTICATED', async () => {
    const url = await start();
    expect(await hellos(url, 4, bearer(await token(clock, { sub: 'alice' })))).toEqual(['hi', 'hi', 'hi', 'RATE_LIMITED']);
    expect(await hellos(url, 5, bearer(await token(clock, { sub: 'root', group: 'admin' })))).toEqual(['hi', 'hi', 'hi', 'hi', 'hi']);
    expect(await hellos(url, 4)).toEqual(['hi', 'hi', 'hi', 'RATE_LIMITED']);

    const forged = bearer(await token(clock, { sub: 'root', group: 'admin' }, FORGED_SECRET));
    const refused = await gql(url, '{ hello visits free }', undefined, forged);
    // The fields that rules count are refused; one no rule counts (bans only) is answered.
    expect(refused.body.data).toEqual({ hello: null, visits: null, free: 'free' });
    expect(errorsByPath(refused.body)).toEqual({ hello: { code: 'UNAUTHENTICATED' }, visits: { code: 'UNAUTHENTICATED' } });
    expect(refused.body.errors?.[0]?.message).toBe('The bearer token is invalid or has expired. Sign in again to get a new one.');
  });

  it('refuses an operation whose complexity budget a forged token would be charged to with 401', async () => {
    const url = await start({ budget: { limit: 100, windowMs: 60_000 } });
    const refused = await gql(url, '{ free }', undefined, bearer(await token(clock, { sub: 'root' }, FORGED_SECRET)));
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await gql(url, '{ free }', undefined, bearer(await token(clock, { sub: 'root' })))).body.data).toEqual({ free: 'free' });
  });

  it('closes a subscription connection with a forged token with 4401', async () => {
    await start();
    const client = wsClient((t as GraphqlTestApp).wsUrl, undefined, bearer(await token(clock, { sub: 'root', group: 'admin' }, FORGED_SECRET)));
    try {
      expect(await client.closed).toEqual({
        code: 4401,
        reason: 'UNAUTHENTICATED: The bearer token is invalid or has expired. Sign in again to get a new one.',
      });
    } finally {
      await client.dispose();
    }
  });
});
