import { ADAPTERS, limitHeaders, startApp, type RunningApp } from '../support/http.js';
import { LIBS } from '../support/libs.js';
import { advance, useFakeDate } from '../support/time.js';
import { basicApp } from './basic.app.js';

const TOO_MANY = { statusCode: 429, message: 'ThrottlerException: Too Many Requests' };

describe.each(LIBS)('%s: one default throttler', (_name, lib) => {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    let t: RunningApp;
    beforeEach(async () => {
      useFakeDate();
      t = await startApp(adapter, basicApp(lib));
    });
    afterEach(async () => {
      await t.close();
      jest.useRealTimers();
    });

    it('admits the limit with X-RateLimit headers, then answers 429 with Retry-After only', async () => {
      for (const remaining of ['2', '1', '0']) {
        const res = await t.http().get('/').expect(200);
        expect(res.body).toEqual({ hello: 'world' });
        expect(limitHeaders(res)).toEqual({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': remaining, 'x-ratelimit-reset': '60' });
      }
      const denied = await t.http().get('/').expect(429);
      expect(denied.body).toEqual(TOO_MANY);
      expect(limitHeaders(denied)).toEqual({ 'retry-after': '60' });
    });

    it('counts each route and each method separately', async () => {
      for (let i = 0; i < 3; i++) await t.http().get('/').expect(200);
      await t.http().get('/').expect(429);
      const other = await t.http().get('/other').expect(200);
      expect(other.headers['x-ratelimit-remaining']).toBe('2');
      const created = await t.http().post('/items').expect(201);
      expect(created.body).toEqual({ created: true });
      expect(created.headers['x-ratelimit-remaining']).toBe('2');
    });

    it('blocks for the ttl from the refused request, then counts afresh', async () => {
      for (let i = 0; i < 3; i++) await t.http().get('/');
      await t.http().get('/').expect(429);
      advance(30_000);
      expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after': '30' });
      advance(29_001);
      expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after': '1' });
      advance(999);
      const again = await t.http().get('/').expect(200);
      expect(limitHeaders(again)).toEqual({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': '60' });
    });

    it('counts each hit for ttl (a sliding log) while Reset shows the current period', async () => {
      const seen: Array<[number, unknown]> = [];
      for (let i = 0; i < 3; i++) {
        const res = await t.http().get('/');
        seen.push([res.status, limitHeaders(res)]);
        advance(20_000);
      }
      // t = 60 s: the first hit has expired, so one more request passes; the period restarts.
      for (let i = 0; i < 2; i++) {
        const res = await t.http().get('/');
        seen.push([res.status, limitHeaders(res)]);
      }
      expect(seen).toEqual([
        [200, { 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': '60' }],
        [200, { 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '40' }],
        [200, { 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '20' }],
        [200, { 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '60' }],
        [429, { 'retry-after': '60' }],
      ]);
    });

    it('rounds seconds up', async () => {
      await t.http().get('/');
      advance(100);
      expect((await t.http().get('/')).headers['x-ratelimit-reset']).toBe('60');
      advance(900);
      expect((await t.http().get('/')).headers['x-ratelimit-reset']).toBe('59');
      advance(1);
      expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after': '60' });
    });

    it('never limits @SkipThrottle() routes and sends them no headers', async () => {
      for (let i = 0; i < 6; i++) {
        const res = await t.http().get('/health').expect(200);
        expect(res.body).toEqual({ status: 'ok' });
        expect(limitHeaders(res)).toEqual({});
      }
    });

    it('applies a route override: limit and ttl', async () => {
      const ok = await t.http().get('/strict').expect(200);
      expect(limitHeaders(ok)).toEqual({ 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '10' });
      expect(limitHeaders(await t.http().get('/strict').expect(429))).toEqual({ 'retry-after': '10' });
    });

    it('applies a route override of the limit only, keeping the module ttl', async () => {
      for (let i = 4; i >= 0; i--) {
        const res = await t.http().get('/roomy').expect(200);
        expect(limitHeaders(res)).toEqual({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': String(i), 'x-ratelimit-reset': '60' });
      }
      await t.http().get('/roomy').expect(429);
    });

    it('applies a controller override, and a route override inside it', async () => {
      for (let i = 0; i < 2; i++) await t.http().get('/limited').expect(200);
      await t.http().get('/limited').expect(429);
      for (let i = 0; i < 4; i++) await t.http().get('/limited/handler').expect(200);
      await t.http().get('/limited/handler').expect(429);
    });

    it('honours a controller-wide skip and a route that opts back in', async () => {
      for (let i = 0; i < 5; i++) expect(limitHeaders(await t.http().get('/open').expect(200))).toEqual({});
      for (let i = 0; i < 3; i++) await t.http().get('/open/counted').expect(200);
      await t.http().get('/open/counted').expect(429);
    });

    it('answers 404 for unknown routes without counting', async () => {
      const res = await t.http().get('/nowhere').expect(404);
      expect(limitHeaders(res)).toEqual({});
    });
  });
});
