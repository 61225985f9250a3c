import { RateLimitService, type DenialResponse, type IdentityErrorResponse, type RateLimitModuleOptions } from '../../../lib/index.js';
import { jwtIdentity } from '../../../lib/jwt/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { bearer, groupsModule, recordingLogger, SECRET, token } from './groups.app.js';

describe.each(ADAPTERS)('custom responses on %s', (adapter) => {
  let t: TestApp;
  let clock: FakeClock;
  let logger: ReturnType<typeof recordingLogger>;
  afterEach(() => t.close());

  const start = async (options: RateLimitModuleOptions) => {
    clock = new FakeClock();
    logger = recordingLogger();
    t = await startApp(adapter, groupsModule({ clock, logger, ...jwtIdentity({ secret: SECRET, algorithms: ['HS256'], clock }), ...options }));
  };
  /** The third request of a client: over the default rule (2 a minute). */
  const overLimit = async () => {
    await t.http().get('/data').expect(200);
    await t.http().get('/data').expect(200);
    return t.http().get('/data');
  };

  it("sends the app's body, status and headers for a denial, keeping Retry-After and RateLimit", async () => {
    const seen: unknown[] = [];
    const denialResponse: DenialResponse = (denial) => {
      seen.push(denial);
      if (denial.reason === 'limited') {
        return { body: { error: 'slow_down', rule: denial.rule, retryIn: denial.retryAfterSeconds }, headers: { 'X-Denial': denial.reason } };
      }
      return { status: 451, body: 'Not here.', headers: { 'Content-Type': 'text/html; charset=utf-8' } };
    };
    await start({ denialResponse });
    const res = await overLimit();
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ error: 'slow_down', rule: 'default', retryIn: 60 });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-denial']).toBe('limited');
    expect(res.headers['retry-after']).toBe('60');
    expect(res.headers['ratelimit']).toBe('"default";r=0;t=60');
    expect(seen[0]).toMatchObject({
      reason: 'limited',
      status: 429,
      rule: 'default',
      limit: 2,
      windowMs: 60_000,
      retryAfterSeconds: 60,
      body: { title: 'Too Many Requests' },
    });

    await t.app.get(RateLimitService).ban({ type: 'key', key: 'mallory' }, 'permanent', undefined, 'abuse', 'ops');
    const banned = await t
      .http()
      .get('/data')
      .set(bearer(await token(clock, { sub: 'mallory' })));
    expect(banned.status).toBe(451);
    expect(banned.text).toBe('Not here.');
    expect(banned.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(seen[1]).toMatchObject({ reason: 'banned', status: 403 });
    expect(logger.errors).toEqual([]);
  });

  it('keeps the default body, retitled, when only the status is given', async () => {
    await start({ denialResponse: () => ({ status: 503 }) });
    const res = await overLimit();
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'about:blank', title: 'Service Unavailable', status: 503, rule: 'default', retryAfterSeconds: 60 });
  });

  it.each([
    ['a status of 200', () => ({ status: 200, body: { ok: true } }), /denialResponse returned the status 200: a refused request takes a status of 400 to 599/],
    ['a redirect', () => ({ status: 302, headers: { Location: '/elsewhere' } }), /the status 302/],
    [
      'a callback that throws',
      () => {
        throw new Error('boom');
      },
      /denialResponse threw \(boom\)/,
    ],
    ['a Retry-After of its own', () => ({ headers: { 'Retry-After': '0' } }), /the header Retry-After: Rampart sets it/],
    ['a header with a line break', () => ({ headers: { 'X-Note': 'a\r\nSet-Cookie: x=1' } }), /the header "X-Note"/],
    ['a body that is no JSON', () => ({ body: { big: 10n } }), /cannot be written as JSON/],
    ['a number body', () => ({ body: 42 }), /a body that is 42/],
    ['no object', () => 'nope', /returned "nope"/],
    [
      'an answer that throws when read',
      () =>
        Object.defineProperty({}, 'status', {
          enumerable: true,
          get() {
            throw new Error('getter');
          },
        }),
      /an answer that throws when read \(getter\)/,
    ],
  ])('falls back to the default response for %s, and logs it once', async (_name, answer, logged) => {
    await start({ denialResponse: answer as DenialResponse });
    for (let i = 0; i < 2; i++) {
      const res = i === 0 ? await overLimit() : await t.http().get('/data');
      expect(res.status).toBe(429);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['retry-after']).toBe('60');
      expect(res.headers['location']).toBeUndefined();
      expect(res.headers['x-note']).toBeUndefined();
      expect(res.body).toMatchObject({ title: 'Too Many Requests', status: 429, rule: 'default' });
    }
    expect(logger.errors).toEqual([expect.stringMatching(logged)]);
  });

  it("answers an invalid token with the app's identity-error response, and falls back from a bad one", async () => {
    const identityErrorResponse: IdentityErrorResponse = (error) => ({
      body: { error: 'invalid_token', code: error.code },
      headers: { 'WWW-Authenticate': 'Bearer realm="api", error="invalid_token"' },
    });
    await start({ identityErrorResponse });
    const forged = bearer('e30.e30.c2lnbmF0dXJl');
    const res = await t.http().get('/data').set(forged).expect(401);
    expect(res.body).toEqual({ error: 'invalid_token', code: 'INVALID_TOKEN' });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token"');
    await t.close();

    await start({ identityErrorResponse: () => ({ status: 204 }) });
    const fallback = await t.http().get('/data').set(forged).expect(401);
    expect(fallback.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(fallback.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(fallback.body).toMatchObject({ title: 'Unauthorized', status: 401 });
    expect(logger.errors).toEqual([expect.stringMatching(/^identityErrorResponse returned the status 204/)]);
  });
});
