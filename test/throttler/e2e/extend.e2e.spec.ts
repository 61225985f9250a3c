import { createHash } from 'node:crypto';
import { ADAPTERS, limitHeaders, startApp, type RunningApp } from '../support/http.js';
import { LIBS } from '../support/libs.js';
import { useFakeDate } from '../support/time.js';
import { asyncApp, customStorageApp, extendedGuardsApp, proxyGuardApp, RecordingStorage, type AsyncMode } from './extend.app.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(LIBS)('%s: extending and configuring', (_name, lib) => {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    let t: RunningApp;
    beforeEach(() => useFakeDate());
    afterEach(async () => {
      await t.close();
      jest.useRealTimers();
    });

    it('a subclassed guard with getTracker tracks the forwarded client', async () => {
      t = await startApp(adapter, proxyGuardApp(lib), { trustProxy: true });
      await t.http().get('/').set('X-Forwarded-For', '203.0.113.7').expect(200);
      await t.http().get('/').set('X-Forwarded-For', '203.0.113.7').expect(429);
      // Express lists forwarded addresses client first; Fastify lists the socket peer first, so
      // the documented guard tracks the proxy there (with either package).
      await t
        .http()
        .get('/')
        .set('X-Forwarded-For', '203.0.113.8')
        .expect(adapter === 'express' ? 200 : 429);
    });

    describe('guards overriding the protected hooks', () => {
      beforeEach(async () => {
        t = await startApp(adapter, extendedGuardsApp(lib));
      });

      it('uses headerPrefix, generateKey, errorMessage and getErrorMessage overrides', async () => {
        expect(limitHeaders(await t.http().get('/custom/a').expect(200))).toEqual({});
        const res = await t.http().get('/custom/a').expect(200);
        expect(res.headers['x-custom-limit-limit']).toBe('2');
        expect(res.headers['x-custom-limit-remaining']).toBe('0');
        expect(res.headers['x-custom-limit-reset']).toBe('60');
        const denied = await t.http().get('/custom/b').expect(429);
        expect(denied.body).toEqual({ statusCode: 429, message: 'Custom default message (3/2)' });
        expect(limitHeaders(denied)).toEqual({ 'retry-after': '60' });
      });

      it('uses a shouldSkip override', async () => {
        for (let i = 0; i < 4; i++) {
          const res = await t.http().get('/custom/a').set('X-Skip', '1').expect(200);
          expect(res.headers['x-custom-limit-limit']).toBeUndefined();
        }
      });

      it('uses a throwThrottlingException override', async () => {
        await t.http().get('/problem').expect(200);
        await t.http().get('/problem').expect(200);
        const denied = await t.http().get('/problem').expect(429);
        expect(denied.body).toEqual({ error: 'rate_limited', retryIn: 60, hits: 3, tracker: '127.0.0.1' });
        expect(limitHeaders(denied)).toEqual({ 'retry-after': '60' });
      });

      it('uses a handleRequest override, and answers 403 when it returns false', async () => {
        const admin = await t.http().get('/plan').set('X-Admin', '1').expect(200);
        expect(admin.headers['x-ratelimit-limit']).toBe('20');
        expect(admin.headers['x-ratelimit-remaining']).toBe('19');
        const denied = await t.http().get('/plan').set('X-Deny', '1').expect(403);
        expect(denied.body).toEqual({ statusCode: 403, message: 'Forbidden resource', error: 'Forbidden' });
        expect(limitHeaders(denied)).toEqual({});
        await t.http().get('/plan').expect(200);
        await t.http().get('/plan').expect(429);
      });

      it('leaves controllers without the guard alone', async () => {
        for (let i = 0; i < 4; i++) expect(limitHeaders(await t.http().get('/unguarded').expect(200))).toEqual({});
      });
    });

    it('uses a custom storage, passing it key, ttl, limit, blockDuration and name', async () => {
      const storage = new RecordingStorage();
      t = await startApp(adapter, customStorageApp(lib, storage));
      expect(limitHeaders(await t.http().get('/').expect(200))).toEqual({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '42' });
      await t.http().get('/').expect(200);
      expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after': '7' });
      const key = sha256('AppController-root-default-127.0.0.1');
      expect(storage.calls).toEqual([
        [key, 60_000, 2, 60_000, 'default'],
        [key, 60_000, 2, 60_000, 'default'],
        [key, 60_000, 2, 60_000, 'default'],
      ]);
      const introspect = await t.http().get('/introspect').expect(200);
      expect(introspect.body).toEqual({ customStorage: true, throttlers: [{ ttl: 60_000, limit: 2 }] });
      await t.close();
      expect(storage.shutdowns).toBe(1);
    });

    it.each<AsyncMode>(['useFactory', 'async useFactory', 'useClass', 'useExisting'])('configures with forRootAsync %s', async (mode) => {
      t = await startApp(adapter, asyncApp(lib, mode));
      expect(limitHeaders(await t.http().get('/').expect(200))).toEqual({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '30' });
      await t.http().get('/').expect(200);
      const denied = await t.http().get('/').expect(429);
      expect(denied.body).toEqual({ statusCode: 429, message: `options from ${mode}` });
      expect(limitHeaders(denied)).toEqual({ 'retry-after': '30' });
    });

    it('provides the options and the default storage under their tokens', async () => {
      t = await startApp(adapter, { imports: [lib.ThrottlerModule.forRoot([{ ttl: lib.minutes(1), limit: 5 }])] });
      expect(t.app.get(lib.getOptionsToken())).toEqual([{ ttl: 60_000, limit: 5 }]);
      expect(t.app.get(lib.getStorageToken())).toBeInstanceOf(lib.ThrottlerStorageService);
      expect(t.app.get(lib.ThrottlerStorage)).toBe(t.app.get(lib.getStorageToken()));
    });
  });
});
