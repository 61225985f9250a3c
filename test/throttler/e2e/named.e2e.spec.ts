import { ADAPTERS, limitHeaders, startApp, type RunningApp } from '../support/http.js';
import { LIBS } from '../support/libs.js';
import { advance, useFakeDate } from '../support/time.js';
import { defaultAndNamedApp, namedApp } from './named.app.js';

const TOO_MANY = { statusCode: 429, message: 'ThrottlerException: Too Many Requests' };

const headersOf = (short: number | null, medium: number | null, long: number | null, limits = { short: 3, medium: 20, long: 100 }) => ({
  ...(short === null ? {} : { 'x-ratelimit-limit-short': String(limits.short), 'x-ratelimit-remaining-short': String(short), 'x-ratelimit-reset-short': '1' }),
  ...(medium === null
    ? {}
    : { 'x-ratelimit-limit-medium': String(limits.medium), 'x-ratelimit-remaining-medium': String(medium), 'x-ratelimit-reset-medium': '10' }),
  ...(long === null ? {} : { 'x-ratelimit-limit-long': String(limits.long), 'x-ratelimit-remaining-long': String(long), 'x-ratelimit-reset-long': '60' }),
});

describe.each(LIBS)('%s: named throttlers', (_name, lib) => {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    let t: RunningApp;
    beforeEach(() => useFakeDate());
    afterEach(async () => {
      await t.close();
      jest.useRealTimers();
    });

    describe('short / medium / long', () => {
      beforeEach(async () => {
        t = await startApp(adapter, namedApp(lib));
      });

      it('sends one suffixed set of headers per throttler', async () => {
        const res = await t.http().get('/').expect(200);
        expect(limitHeaders(res)).toEqual(headersOf(2, 19, 99));
      });

      it('refuses with the suffixed Retry-After of the exceeded throttler, checking the shortest first', async () => {
        for (let i = 2; i >= 0; i--) expect(limitHeaders(await t.http().get('/').expect(200))).toEqual(headersOf(i, 19 - (2 - i), 99 - (2 - i)));
        const denied = await t.http().get('/').expect(429);
        expect(denied.body).toEqual(TOO_MANY);
        expect(limitHeaders(denied)).toEqual({ 'retry-after-short': '1' });
        advance(1_000);
        // The refused request was stopped by 'short' before 'medium' and 'long' counted it.
        expect(limitHeaders(await t.http().get('/').expect(200))).toEqual({
          ...headersOf(2, 16, 96),
          'x-ratelimit-reset-medium': '9',
          'x-ratelimit-reset-long': '59',
        });
      });

      it('sets the headers of the throttlers checked before the one that refuses', async () => {
        await t.http().get('/few').expect(200);
        await t.http().get('/few').expect(200);
        const denied = await t.http().get('/few').expect(429);
        expect(limitHeaders(denied)).toEqual({ ...headersOf(0, 17, null), 'retry-after-long': '60' });
      });

      it('skips only the named throttlers', async () => {
        for (let i = 0; i < 6; i++) {
          const res = await t.http().get('/no-short').expect(200);
          expect(limitHeaders(res)).toEqual(headersOf(null, 19 - i, 99 - i));
        }
        for (let i = 0; i < 6; i++) expect(limitHeaders(await t.http().get('/none').expect(200))).toEqual({});
      });

      it("@SkipThrottle() only skips a throttler named 'default'", async () => {
        for (let i = 0; i < 3; i++) await t.http().get('/skip-default').expect(200);
        await t.http().get('/skip-default').expect(429);
      });

      it('overrides several named throttlers on one route', async () => {
        const res = await t.http().get('/both').expect(200);
        expect(limitHeaders(res)).toEqual({
          'x-ratelimit-limit-short': '1',
          'x-ratelimit-remaining-short': '0',
          'x-ratelimit-reset-short': '5',
          'x-ratelimit-limit-medium': '1',
          'x-ratelimit-remaining-medium': '0',
          'x-ratelimit-reset-medium': '10',
          'x-ratelimit-limit-long': '100',
          'x-ratelimit-remaining-long': '99',
          'x-ratelimit-reset-long': '60',
        });
        expect(limitHeaders(await t.http().get('/both').expect(429))).toEqual({ 'retry-after-short': '5' });
        advance(5_000);
        const denied = await t.http().get('/both').expect(429);
        expect(limitHeaders(denied)).toEqual({
          'x-ratelimit-limit-short': '1',
          'x-ratelimit-remaining-short': '0',
          'x-ratelimit-reset-short': '5',
          'retry-after-medium': '10',
        });
      });
    });

    describe("'default' beside a named throttler", () => {
      beforeEach(async () => {
        t = await startApp(adapter, defaultAndNamedApp(lib));
      });

      it('suffixes only the named headers', async () => {
        const res = await t.http().get('/').expect(200);
        expect(limitHeaders(res)).toEqual({
          'x-ratelimit-limit-burst': '5',
          'x-ratelimit-remaining-burst': '4',
          'x-ratelimit-reset-burst': '2',
          'x-ratelimit-limit': '2',
          'x-ratelimit-remaining': '1',
          'x-ratelimit-reset': '60',
        });
        await t.http().get('/').expect(200);
        const denied = await t.http().get('/').expect(429);
        expect(limitHeaders(denied)).toEqual({
          'x-ratelimit-limit-burst': '5',
          'x-ratelimit-remaining-burst': '2',
          'x-ratelimit-reset-burst': '2',
          'retry-after': '60',
        });
      });

      it('@SkipThrottle() skips the default throttler and keeps the named one', async () => {
        for (let i = 4; i >= 0; i--) {
          expect(limitHeaders(await t.http().get('/named-only').expect(200))).toEqual({
            'x-ratelimit-limit-burst': '5',
            'x-ratelimit-remaining-burst': String(i),
            'x-ratelimit-reset-burst': '2',
          });
        }
        expect(limitHeaders(await t.http().get('/named-only').expect(429))).toEqual({ 'retry-after-burst': '2' });
      });
    });
  });
});
