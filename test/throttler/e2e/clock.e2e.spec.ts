import { Controller, Get } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import * as real from '@nestjs/throttler';
import { SkipThrottle, Throttle, ThrottlerGuard, ThrottlerModule, ThrottlerStorageService } from '../../../lib/throttler/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, limitHeaders, startApp, type RunningApp } from '../support/http.js';

@Controller()
class AppController {
  @Get() root() {
    return 'root';
  }
  @Throttle({ short: { limit: 1 } }) @Get('strict') strict() {
    return 'strict';
  }
  @SkipThrottle({ long: true }) @Get('short-only') shortOnly() {
    return 'short-only';
  }
}

/** Decorated with @nestjs/throttler's decorators, guarded by ours: an app half-way through migrating. */
@Controller('legacy')
class LegacyController {
  @real.Throttle({ short: { limit: 1 } }) @Get() root() {
    return 'legacy';
  }
  @real.SkipThrottle({ short: true, long: true }) @Get('open') open() {
    return 'open';
  }
}

/**
 * nest-rampart/throttler only: time from a clock given to the storage, so expiry is tested
 * without touching Date or timers.
 */
describe.each(ADAPTERS)('nest-rampart/throttler with an injected clock on %s', (adapter) => {
  let clock: FakeClock;
  let t: RunningApp;
  beforeEach(async () => {
    clock = new FakeClock(Date.UTC(2030, 0, 1));
    t = await startApp(adapter, {
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [
            { name: 'short', ttl: 1_000, limit: 3 },
            { name: 'long', ttl: 60_000, limit: 10, blockDuration: 120_000 },
          ],
          storage: new ThrottlerStorageService({ clock }),
        }),
      ],
      controllers: [AppController, LegacyController],
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    });
  });
  afterEach(() => t.close());

  it('recovers when the short throttler expires, until the long one blocks', async () => {
    for (let second = 0; second < 3; second++) {
      for (let i = 0; i < 3; i++) await t.http().get('/').expect(200);
      expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after-short': '1' });
      clock.advance(1_000);
    }
    const last = await t.http().get('/').expect(200);
    expect(last.headers['x-ratelimit-remaining-long']).toBe('0');
    const blocked = await t.http().get('/').expect(429);
    expect(limitHeaders(blocked)).toEqual({
      'x-ratelimit-limit-short': '3',
      'x-ratelimit-remaining-short': '1',
      'x-ratelimit-reset-short': '1',
      'retry-after-long': '120',
    });
    clock.advance(119_000);
    expect((await t.http().get('/').expect(429)).headers['retry-after-long']).toBe('1');
    clock.advance(1_000);
    const again = await t.http().get('/').expect(200);
    expect(again.headers['x-ratelimit-remaining-long']).toBe('9');
  });

  it('blocks from the refused request and rounds partial seconds up', async () => {
    await t.http().get('/strict').expect(200);
    clock.advance(10);
    expect(limitHeaders(await t.http().get('/strict').expect(429))).toEqual({ 'retry-after-short': '1' });
    clock.advance(999);
    expect(limitHeaders(await t.http().get('/strict').expect(429))).toEqual({ 'retry-after-short': '1' });
    clock.advance(1);
    await t.http().get('/strict').expect(200);
  });

  it('skips a named throttler per route', async () => {
    const res = await t.http().get('/short-only').expect(200);
    expect(Object.keys(limitHeaders(res)).sort()).toEqual(['x-ratelimit-limit-short', 'x-ratelimit-remaining-short', 'x-ratelimit-reset-short']);
  });

  it("reads @nestjs/throttler's decorators", async () => {
    await t.http().get('/legacy').expect(200);
    expect(limitHeaders(await t.http().get('/legacy').expect(429))).toEqual({ 'retry-after-short': '1' });
    for (let i = 0; i < 5; i++) expect(limitHeaders(await t.http().get('/legacy/open').expect(200))).toEqual({});
  });
});
