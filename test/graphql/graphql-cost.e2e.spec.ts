import { getIntrospectionQuery } from 'graphql';
import type { RateLimitModuleOptions } from '../../lib/index.js';
import type { RampartGraphqlOptions } from '../../lib/graphql/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { GRAPHQL_DRIVERS, startGraphqlApp, type GraphqlTestApp } from './graphql.app.js';
import { gql } from './support.js';

const MINUTE = 60_000;
/** (posts @Cost 1 + comments @Cost 5 + text 1) × first: 7 per post. */
const postsWithComments = (first: number) => `{ posts(first: ${first}) { comments { text } } }`;

describe.each(GRAPHQL_DRIVERS)('GraphQL operation limits on %s', (driver) => {
  let clock: FakeClock;
  let t: GraphqlTestApp | undefined;

  beforeEach(() => {
    clock = new FakeClock();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (limits: RampartGraphqlOptions, options: RateLimitModuleOptions = {}) =>
    (t = await startGraphqlApp(
      driver,
      { clock, escalation: false, rules: [{ limit: 1_000, windowMs: MINUTE, algorithm: 'fixed-window' }], ...options },
      limits,
    ));

  it('refuses an operation nested deeper than maxDepth before it runs: 400, QUERY_TOO_DEEP', async () => {
    const { url } = await start({ maxDepth: 2 });
    expect((await gql(url, '{ posts(first: 1) { id } }')).body).toEqual({ data: { posts: [{ id: 1 }] } });
    const refused = await gql(url, postsWithComments(1));
    expect(refused.status).toBe(400);
    expect(refused.body.data ?? null).toBeNull();
    expect(refused.body.errors).toEqual([
      expect.objectContaining({
        message: 'The GraphQL operation nests fields more than 2 levels deep; at most 2 are accepted. Select fewer levels of nested fields.',
        extensions: expect.objectContaining({ code: 'QUERY_TOO_DEEP', limit: 2, actual: 3 }),
      }),
    ]);
  });

  it("costs fields by @Cost (a resolver's multiplier argument, a field resolver's value) and refuses beyond maxComplexity: 400, QUERY_TOO_COMPLEX", async () => {
    const { url } = await start({ maxComplexity: 20 });
    expect((await gql(url, postsWithComments(2))).body.errors).toBeUndefined();
    const refused = await gql(url, postsWithComments(3));
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: 20, actual: 21 }) }),
    ]);
    // The same through a variable.
    const byVariable = await gql(url, 'query($n: Int!) { posts(first: $n) { comments { text } } }', { n: 3 });
    expect(byVariable.status).toBe(400);
    expect(byVariable.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', actual: 21 });
  });

  it('refuses a document longer than maxDocumentLength before it is parsed: 400, QUERY_TOO_LARGE', async () => {
    const { url } = await start({ maxDocumentLength: 100 });
    const refused = await gql(url, `{ ${'hello '.repeat(30)}}`);
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_LARGE', limit: 100, actual: 183 }) }),
    ]);
  });

  it('charges each operation its complexity against the per-client budget, refuses one it cannot pay for (429, Retry-After) and pays again next window', async () => {
    // `free` is never counted by the guard: the headers are the budget's.
    const { url } = await start({ budget: { limit: 25, windowMs: MINUTE, algorithm: 'fixed-window' }, fieldCosts: { 'Query.free': 10 } });
    const first = await gql(url, '{ free }');
    expect(first.body).toEqual({ data: { free: 'free' } });
    expect(first.headers.get('ratelimit-policy')).toBe('"complexity";q=25;w=60');
    expect(first.headers.get('ratelimit')).toBe('"complexity";r=15;t=60');
    expect((await gql(url, '{ free }')).body).toEqual({ data: { free: 'free' } });
    const refused = await gql(url, '{ free }');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(refused.body.data ?? null).toBeNull();
    expect(refused.body.errors).toEqual([
      expect.objectContaining({
        message: "Rate limit 'complexity' exceeded: at most 25 requests per 60 s. Retry in 60 s.",
        extensions: expect.objectContaining({ code: 'RATE_LIMITED', rule: 'complexity', retryAfterSeconds: 60 }),
      }),
    ]);
    // A cheaper operation still fits what is left (5 of 25).
    expect((await gql(url, '{ hello }')).body).toEqual({ data: { hello: 'hi' } });
    clock.advance(MINUTE);
    expect((await gql(url, '{ free }')).body).toEqual({ data: { free: 'free' } });
  });

  it('charges the budget per client: another address has its own', async () => {
    const { url } = await start({ budget: { limit: 10, windowMs: MINUTE }, fieldCosts: { 'Query.free': 10 } }, { trustProxy: { proxies: ['loopback'] } });
    const from = (address: string) => gql(url, '{ free }', undefined, { 'x-forwarded-for': address });
    expect((await from('203.0.113.1')).status).toBe(200);
    expect((await from('203.0.113.1')).status).toBe(429);
    expect((await from('203.0.113.2')).status).toBe(200);
  });

  describe('hostile documents: a clear 4xx, the server still answering', () => {
    const stillUp = async (url: string) => expect((await gql(url, '{ free }')).body).toEqual({ data: { free: 'free' } });

    it('aliases multiplying a field are counted one by one', async () => {
      const { url } = await start({ maxComplexity: 500 });
      const aliases = Array.from({ length: 600 }, (_, i) => `a${i}: free`).join(' ');
      const refused = await gql(url, `{ ${aliases} }`);
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', actual: 600 });
      await stillUp(url);
    });

    it('fragments spread in a cycle are refused by validation', async () => {
      const { url } = await start({});
      const refused = await gql(url, '{ ...A } fragment A on Query { free ...B } fragment B on Query { ...A }');
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.message).toMatch(/Cannot spread fragment "A" within itself/);
      await stillUp(url);
    });

    it('a document nested beyond what the parser can read is refused before it is parsed', async () => {
      const { url } = await start({ maxDocumentLength: 30_000 });
      for (const nested of [`{ ${'...{ '.repeat(3_000)}free${' }'.repeat(3_000)} }`, `{ posts(ids: ${'['.repeat(5_000)}1${']'.repeat(5_000)}) { id } }`]) {
        const refused = await gql(url, nested);
        expect(refused.status).toBe(400);
        expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', limit: 60, actual: 61 });
      }
      // Braces in strings and comments are not nesting.
      expect((await gql(url, `{ free # ${'{'.repeat(100)}\n }`)).body).toEqual({ data: { free: 'free' } });
      await stillUp(url);
    });

    it('introspection: the standard query (GraphiQL, code generators) passes the defaults; deeper is refused at maxIntrospectionDepth', async () => {
      const { url } = await start({});
      const standard = await gql(url, getIntrospectionQuery());
      expect(standard.status).toBe(200);
      expect((standard.body.data?.['__schema'] as { queryType: unknown }).queryType).toMatchObject({ name: 'Query' });
      const refused = await gql(url, `{ __type(name: "Post") { ${'ofType { '.repeat(16)}name${' }'.repeat(16)} } }`);
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', limit: 15, actual: 16 });
      await stillUp(url);
    });

    it('a huge multiplier in a variable is refused, not overflowed', async () => {
      const { url } = await start({});
      const refused = await gql(url, 'query($n: Int!) { posts(first: $n) { id } }', { n: 2_000_000_000 });
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', actual: 4_000_000_000 });
      await stillUp(url);
    });

    it('a body that is not a GraphQL request gets a 400 (or, from Mercurius, an error), never a 500', async () => {
      const { url } = await start({});
      for (const body of ['{"query": 42}', '{"query": "{ free }", "variables": "x"}', 'not json', '[1, 2', '{"query": "{ free }", "operationName": 7}']) {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(response.status).toBeLessThan(500);
        expect(((await response.json()) as { data?: unknown }).data ?? null).toBeNull();
      }
      await stillUp(url);
    });
  });
});
