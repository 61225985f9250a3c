import type { ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { RateLimitService, type RateLimitModuleOptions } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { GRAPHQL_DRIVERS, startGraphqlApp, type GraphqlTestApp } from './graphql.app.js';
import { errorsByPath, gql } from './support.js';

const MINUTE = 60_000;

describe.each(GRAPHQL_DRIVERS)('GraphQL resolvers on %s', (driver) => {
  let clock: FakeClock;
  let t: GraphqlTestApp | undefined;

  beforeEach(() => {
    clock = new FakeClock();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const start = async (options: RateLimitModuleOptions = {}) => (t = await startGraphqlApp(driver, { clock, escalation: false, ...options }));

  it("counts each query field against the module's rule, refuses the one over it with RATE_LIMITED and the headers, and admits it again in the next window", async () => {
    const { url } = await start();
    for (let i = 0; i < 3; i++) {
      const ok = await gql(url, '{ hello }');
      expect(ok.body).toEqual({ data: { hello: 'hi' } });
      expect(ok.headers.get('ratelimit-policy')).toBe('"default";q=3;w=60');
      expect(ok.headers.get('ratelimit')).toBe(`"default";r=${2 - i};t=60`);
    }
    const refused = await gql(url, '{ hello }');
    expect(refused.status).toBe(200);
    expect(refused.body.data).toEqual({ hello: null });
    expect(refused.body.errors).toHaveLength(1);
    expect(refused.body.errors?.[0]).toMatchObject({
      message: "Rate limit 'default' exceeded: at most 3 requests per 60 s. Retry in 60 s.",
      path: ['hello'],
      extensions: { code: 'RATE_LIMITED', rule: 'default', retryAfterSeconds: 60 },
    });
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(refused.headers.get('ratelimit')).toBe('"default";r=0;t=60');
    clock.advance(MINUTE);
    expect((await gql(url, '{ hello }')).body).toEqual({ data: { hello: 'hi' } });
  });

  it('counts per schema field and resolves the other fields of a refused operation (partial data)', async () => {
    const { url } = await start();
    expect((await gql(url, '{ once hello }')).body).toEqual({ data: { once: 'once', hello: 'hi' } });
    const partial = await gql(url, '{ once hello visits }');
    expect(partial.body.data).toEqual({ once: null, hello: 'hi', visits: 7 });
    expect(errorsByPath(partial.body)).toEqual({ once: expect.objectContaining({ code: 'RATE_LIMITED', rule: 'default' }) });
  });

  it("applies a resolver class's @Throttle to its fields", async () => {
    const { url } = await start();
    expect((await gql(url, '{ visits }')).body).toEqual({ data: { visits: 7 } });
    expect((await gql(url, '{ visits }')).body).toEqual({ data: { visits: 7 } });
    expect(errorsByPath((await gql(url, '{ visits }')).body)).toEqual({ visits: expect.objectContaining({ code: 'RATE_LIMITED' }) });
    // The module's rule (3) still counts `hello` apart.
    expect((await gql(url, '{ hello }')).body).toEqual({ data: { hello: 'hi' } });
  });

  it('never counts a @SkipThrottle() field, and sends it no rate-limit headers', async () => {
    const { url } = await start();
    for (let i = 0; i < 8; i++) {
      const res = await gql(url, '{ free }');
      expect(res.body).toEqual({ data: { free: 'free' } });
      expect(res.headers.get('ratelimit')).toBeNull();
    }
  });

  it('counts a field resolver under a list once per operation (each item shares the answer), and each alias of it apart', async () => {
    const { url } = await start();
    // `comments` has @Throttle({ limit: 2 }); five posts, one count.
    const first = await gql(url, '{ posts(first: 5) { id comments { text } } }');
    expect(first.body.errors).toBeUndefined();
    expect(first.headers.get('ratelimit')).toBe('"default";r=1;t=60');
    // Two aliases: two counts; the second is refused on every post of its list, the first's list is served.
    const aliased = await gql(url, '{ a: posts(first: 2) { comments { text } } b: posts(first: 2) { comments { text } } }');
    expect(aliased.body.data).toEqual({ a: [{ comments: [{ text: 'on 1' }] }, { comments: [{ text: 'on 2' }] }], b: [{ comments: null }, { comments: null }] });
    expect(Object.keys(errorsByPath(aliased.body)).sort()).toEqual(['b.0.comments', 'b.1.comments']);
  });

  it("counts the members of a union apart at one path: a video's lenient comments never answer for a post's", async () => {
    const { url } = await start();
    const query = '{ feed { ... on Video { comments { text } } ... on Post { comments { text } } } }';
    // The video comes first in the feed; Post.comments (2 a minute) is counted once per operation all the same.
    for (let i = 0; i < 2; i++) expect((await gql(url, query)).body.errors).toBeUndefined();
    const third = await gql(url, query);
    expect(third.body.data).toEqual({ feed: [{ comments: [{ text: 'on video 30' }] }, { comments: null }, { comments: null }] });
    expect(Object.keys(errorsByPath(third.body)).sort()).toEqual(['feed.1.comments', 'feed.2.comments']);
  });

  it('counts a mutation under its own field', async () => {
    const { url } = await start();
    for (let i = 0; i < 3; i++) expect((await gql(url, 'mutation { createPost(title: "t") { id } }')).body).toEqual({ data: { createPost: { id: 99 } } });
    expect(errorsByPath((await gql(url, 'mutation { createPost(title: "t") { id } }')).body)).toEqual({
      createPost: expect.objectContaining({ code: 'RATE_LIMITED', rule: 'default' }),
    });
  });

  it('refuses every field of a banned client with BANNED, @SkipThrottle() fields included, until the ban is lifted', async () => {
    const app = await start();
    const service = app.app.get(RateLimitService);
    await service.ban({ type: 'key', key: '127.0.0.1' }, 'permanent', undefined, 'abuse', 'ops');
    const refused = await gql(app.url, '{ hello free }');
    expect(refused.body.data).toBeNull();
    expect(errorsByPath(refused.body)).toMatchObject({ hello: { code: 'BANNED' } });
    expect(refused.body.errors?.[0]?.message).toBe('This client is banned. Ask the operator of this service to lift the ban.');
    expect(refused.body.errors?.[0]?.extensions?.['retryAfterSeconds']).toBeUndefined();
    await service.unban({ type: 'key', key: '127.0.0.1' }, 'ops');
    expect((await gql(app.url, '{ hello free }')).body).toEqual({ data: { hello: 'hi', free: 'free' } });
  });

  it('refuses a deny-listed address with BANNED', async () => {
    const app = await start();
    await app.app.get(RateLimitService).putAccessEntry('deny', '127.0.0.0/8', 'ops');
    expect(errorsByPath((await gql(app.url, '{ hello }')).body)).toEqual({ hello: expect.objectContaining({ code: 'BANNED' }) });
  });

  it("escalates repeated violations to a block: BLOCKED with the block's Retry-After, on every field", async () => {
    const { url } = await start({ escalation: { blockAfterViolations: 2, blockDurationMs: 15 * MINUTE } });
    await gql(url, '{ once }');
    await gql(url, '{ once }');
    const blocked = await gql(url, '{ once }');
    expect(errorsByPath(blocked.body)).toEqual({ once: expect.objectContaining({ code: 'BLOCKED', retryAfterSeconds: 900 }) });
    expect(blocked.headers.get('retry-after')).toBe('900');
    expect(errorsByPath((await gql(url, '{ hello }')).body)).toEqual({ hello: expect.objectContaining({ code: 'BLOCKED' }) });
  });

  it.each([
    ['deny', { hello: null }, 'UNAVAILABLE'],
    ['allow', { hello: 'hi' }, undefined],
  ] as const)("follows the rule's onStoreError while the store fails (%s)", async (policy, data, code) => {
    const failing = {
      consume: () => Promise.reject(new Error('store down')),
      get: () => Promise.reject(new Error('store down')),
      reset: async () => undefined,
    };
    const { url } = await start({ store: failing, storeFallback: false, onStoreError: policy, storeTimeoutMs: 50 });
    const res = await gql(url, '{ hello }');
    expect(res.body.data).toEqual(data);
    if (code) {
      expect(errorsByPath(res.body)).toEqual({ hello: expect.objectContaining({ code, retryAfterSeconds: 1 }) });
      expect(res.headers.get('retry-after')).toBe('1');
    } else expect(res.body.errors).toBeUndefined();
  });

  it("counts by the module's keyResolver, which reads the operation's HTTP request from the GraphQL context", async () => {
    const keyResolver = (context: ExecutionContext) => {
      const { req, reply } = GqlExecutionContext.create(context).getContext<{
        req?: { headers: Record<string, string> };
        reply?: { request: { headers: Record<string, string> } };
      }>();
      return (req ?? reply?.request)?.headers['x-api-key'];
    };
    const { url } = await start({ keyResolver });
    for (let i = 0; i < 3; i++) await gql(url, '{ hello }', undefined, { 'x-api-key': 'alice' });
    expect(errorsByPath((await gql(url, '{ hello }', undefined, { 'x-api-key': 'alice' })).body)).toEqual({
      hello: expect.objectContaining({ code: 'RATE_LIMITED' }),
    });
    expect((await gql(url, '{ hello }', undefined, { 'x-api-key': 'bob' })).body).toEqual({ data: { hello: 'hi' } });
  });

  it('takes the client address from a trusted proxy, and ignores forwarded headers from an untrusted one', async () => {
    const forwarded = (address: string) => ({ 'x-forwarded-for': address });
    const untrusted = await start();
    for (let i = 0; i < 3; i++) await gql(untrusted.url, '{ hello }', undefined, forwarded(`203.0.113.${i}`));
    expect(errorsByPath((await gql(untrusted.url, '{ hello }', undefined, forwarded('203.0.113.9'))).body)).toEqual({ hello: expect.anything() });
    await untrusted.close();
    const trusted = await start({ trustProxy: { proxies: ['loopback'] } });
    for (let i = 0; i < 3; i++) await gql(trusted.url, '{ hello }', undefined, forwarded('203.0.113.1'));
    expect(errorsByPath((await gql(trusted.url, '{ hello }', undefined, forwarded('203.0.113.1'))).body)).toEqual({ hello: expect.anything() });
    expect((await gql(trusted.url, '{ hello }', undefined, forwarded('203.0.113.2'))).body).toEqual({ data: { hello: 'hi' } });
  });
});
