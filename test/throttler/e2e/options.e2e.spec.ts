import { createHash } from 'node:crypto';
import { ADAPTERS, limitHeaders, startApp, type RunningApp } from '../support/http.js';
import { LIBS } from '../support/libs.js';
import { advance, useFakeDate } from '../support/time.js';
import { blockApp, commonOptionsApp, errorFunctionApp, headersApp, ipv6App, mixedTtlApp, resolvableApp } from './options.app.js';

const TOO_MANY = { statusCode: 429, message: 'ThrottlerException: Too Many Requests' };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(LIBS)('%s: options', (_name, lib) => {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    let t: RunningApp;
    beforeEach(() => useFakeDate());
    afterEach(async () => {
      await t.close();
      jest.useRealTimers();
    });

    describe('object form: skipIf, ignoreUserAgents, getTracker, generateKey, errorMessage', () => {
      beforeEach(async () => {
        t = await startApp(adapter, commonOptionsApp(lib));
      });

      it('answers 429 with the custom message', async () => {
        await t.http().get('/').expect(200);
        await t.http().get('/').expect(200);
        const denied = await t.http().get('/').expect(429);
        expect(denied.body).toEqual({ statusCode: 429, message: 'Slow down, please.' });
        expect(limitHeaders(denied)).toEqual({ 'retry-after': '60' });
      });

      it('lets skipIf requests through without counting or headers', async () => {
        for (let i = 0; i < 4; i++) expect(limitHeaders(await t.http().get('/').set('X-Internal', 'yes').expect(200))).toEqual({});
        expect((await t.http().get('/').expect(200)).headers['x-ratelimit-remaining']).toBe('1');
      });

      it('ignores the listed user agents', async () => {
        for (let i = 0; i < 4; i++) {
          expect(limitHeaders(await t.http().get('/').set('User-Agent', 'Mozilla/5.0 (compatible; Googlebot/2.1)').expect(200))).toEqual({});
        }
        expect((await t.http().get('/').set('User-Agent', 'curl/8').expect(200)).headers['x-ratelimit-remaining']).toBe('1');
      });

      it('counts each tracker from the module getTracker separately', async () => {
        await t.http().get('/').set('X-Api-Key', 'k1').expect(200);
        await t.http().get('/').set('X-Api-Key', 'k1').expect(200);
        await t.http().get('/').set('X-Api-Key', 'k1').expect(429);
        await t.http().get('/').set('X-Api-Key', 'k2').expect(200);
        await t.http().get('/').expect(200);
      });

      it('prefers a route getTracker', async () => {
        await t.http().get('/per-user').set('X-User', 'ann').set('X-Api-Key', 'k1').expect(200);
        await t.http().get('/per-user').set('X-User', 'ann').set('X-Api-Key', 'k2').expect(200);
        await t.http().get('/per-user').set('X-User', 'ann').set('X-Api-Key', 'k3').expect(429);
        await t.http().get('/per-user').set('X-User', 'bob').expect(200);
      });

      it('shares a count between routes whose generateKey gives the same key', async () => {
        await t.http().get('/shared-a').expect(200);
        await t.http().get('/shared-b').expect(200);
        await t.http().get('/shared-a').expect(429);
        await t.http().get('/shared-b').expect(429);
      });
    });

    it('passes the context and the limit detail to an errorMessage function', async () => {
      t = await startApp(adapter, errorFunctionApp(lib));
      await t.http().get('/').expect(200);
      advance(1_500);
      await t.http().get('/').expect(200);
      const denied = await t.http().get('/').expect(429);
      expect(denied.body.statusCode).toBe(429);
      const detail = JSON.parse(denied.body.message);
      expect(detail).toEqual({
        route: 'AppController.root',
        limit: 2,
        ttl: 60_000,
        key: sha256(`AppController-root-default-${detail.tracker}`),
        tracker: '127.0.0.1',
        totalHits: 3,
        timeToExpire: 59,
        isBlocked: true,
        timeToBlockExpire: 60,
      });
      expect(Object.keys(detail)).toEqual(['route', 'limit', 'ttl', 'key', 'tracker', 'totalHits', 'timeToExpire', 'isBlocked', 'timeToBlockExpire']);
    });

    it('sends headers only for throttlers whose setHeaders (or the common one) is on', async () => {
      t = await startApp(adapter, headersApp(lib));
      const loud = (remaining: number) => ({ 'x-ratelimit-limit-loud': '3', 'x-ratelimit-remaining-loud': String(remaining), 'x-ratelimit-reset-loud': '60' });
      expect(limitHeaders(await t.http().get('/').expect(200))).toEqual(loud(2));
      expect(limitHeaders(await t.http().get('/').expect(200))).toEqual(loud(1));
      const byQuiet = await t.http().get('/').expect(429);
      expect(byQuiet.body).toEqual(TOO_MANY);
      expect(limitHeaders(byQuiet)).toEqual({});
      advance(1_000);
      expect(limitHeaders(await t.http().get('/').expect(200))).toEqual({ ...loud(0), 'x-ratelimit-reset-loud': '59' });
      expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after-loud': '60' });
    });

    describe('blockDuration', () => {
      beforeEach(async () => {
        t = await startApp(adapter, blockApp(lib));
      });

      it('keeps refusing for blockDuration after the hits expire, then counts afresh', async () => {
        await t.http().get('/').expect(200);
        await t.http().get('/').expect(200);
        expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after': '30' });
        advance(10_000);
        expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after': '20' });
        advance(20_000);
        expect(limitHeaders(await t.http().get('/').expect(200))).toEqual({
          'x-ratelimit-limit': '2',
          'x-ratelimit-remaining': '1',
          'x-ratelimit-reset': '10',
        });
      });

      it('forgets the counted hits when a block shorter than ttl ends', async () => {
        await t.http().get('/short-block').expect(200);
        await t.http().get('/short-block').expect(200);
        expect(limitHeaders(await t.http().get('/short-block').expect(429))).toEqual({ 'retry-after': '2' });
        advance(2_000);
        expect(limitHeaders(await t.http().get('/short-block').expect(200))).toEqual({
          'x-ratelimit-limit': '2',
          'x-ratelimit-remaining': '1',
          'x-ratelimit-reset': '8',
        });
      });

      it('with blockDuration 0, refuses without counting until the oldest hit expires', async () => {
        expect(limitHeaders(await t.http().get('/no-block').expect(200))).toEqual({
          'x-ratelimit-limit': '2',
          'x-ratelimit-remaining': '1',
          'x-ratelimit-reset': '10',
        });
        advance(4_000);
        await t.http().get('/no-block').expect(200);
        advance(1_000);
        expect(limitHeaders(await t.http().get('/no-block').expect(429))).toEqual({ 'retry-after': '5' });
        advance(5_000);
        expect(limitHeaders(await t.http().get('/no-block').expect(200))).toEqual({
          'x-ratelimit-limit': '2',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': '10',
        });
        advance(1_000);
        expect(limitHeaders(await t.http().get('/no-block').expect(429))).toEqual({ 'retry-after': '3' });
      });
    });

    describe('limit and ttl resolved per request', () => {
      beforeEach(async () => {
        t = await startApp(adapter, resolvableApp(lib));
      });

      it('resolves functions of the context', async () => {
        expect(limitHeaders(await t.http().get('/').set('X-Plan', 'pro').expect(200))).toEqual({
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '4',
          'x-ratelimit-reset': '10',
        });
        expect(limitHeaders(await t.http().get('/').expect(200))).toEqual({
          'x-ratelimit-limit': '2',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': '10',
        });
        expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after': '30' });
      });

      it('resolves an async route limit', async () => {
        await t.http().get('/async').expect(200);
        await t.http().get('/async').expect(429);
      });

      it('accepts a numeric string', async () => {
        expect((await t.http().get('/string').expect(200)).headers['x-ratelimit-limit']).toBe('4');
      });

      it('answers 500 for a value that is not a number', async () => {
        const res = await t.http().get('/invalid').expect(500);
        expect(res.body).toEqual({ statusCode: 500, message: 'Internal server error' });
      });
    });

    it('checks a throttler whose ttl is a function in the same order', async () => {
      t = await startApp(adapter, mixedTtlApp(lib));
      expect(Object.keys(limitHeaders(await t.http().get('/').expect(200)))).toHaveLength(9);
      // The declared order (computed, fixed, wide) is kept: the function ttl compares as "after",
      // which the sort leaves in place here, so 'computed' answers first.
      const denied = await t.http().get('/').expect(429);
      expect(limitHeaders(denied)).toEqual({ 'retry-after-computed': '1' });
    });

    describe('IPv6 clients', () => {
      it('groups IPv6 addresses by /64 by default', async () => {
        t = await startApp(adapter, ipv6App(lib), { trustProxy: true });
        await t.http().get('/').set('X-Forwarded-For', '2001:db8:0:1::1').expect(200);
        await t.http().get('/').set('X-Forwarded-For', '2001:db8:0:1:ffff::2').expect(429);
        await t.http().get('/').set('X-Forwarded-For', '2001:db8:0:2::1').expect(200);
        await t.http().get('/').set('X-Forwarded-For', '203.0.113.1').expect(200);
        await t.http().get('/').set('X-Forwarded-For', '203.0.113.2').expect(200);
      });

      it('groups by ipv6SubnetPrefix', async () => {
        t = await startApp(adapter, ipv6App(lib, 56), { trustProxy: true });
        await t.http().get('/').set('X-Forwarded-For', '2001:db8:0:1::1').expect(200);
        await t.http().get('/').set('X-Forwarded-For', '2001:db8:0:2::1').expect(429);
        await t.http().get('/').set('X-Forwarded-For', '2001:db8:0:100::1').expect(200);
      });
    });
  });
});
