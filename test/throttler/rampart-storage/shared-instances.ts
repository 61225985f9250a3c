/**
 * Two instances of one app, guarded by the real @nestjs/throttler, counting in one shared store
 * through RampartThrottlerStorage: the scenarios every shared store (MongoDB, Redis) runs.
 */
import { Controller, Get } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { SkipThrottle, ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { rampartThrottlerStorage, type ThrottlerBacking } from '../../../lib/throttler/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, limitHeaders, startApp, type RunningApp } from '../support/http.js';

export const HOT_LIMIT = 50;
const REQUESTS = 200;
const TRIALS = 5;

/** 50 per minute, the `default` throttler only. */
@SkipThrottle({ short: true, long: true, strict: true })
@Controller('hot')
class HotController {
  @Get() hot() {
    return 'hot';
  }
}

/** Two named throttlers: 2 per second and 5 per minute, each blocking for its ttl (the guard's default). */
@SkipThrottle({ default: true, strict: true })
@Controller('named')
class NamedController {
  @Get() named() {
    return 'named';
  }
}

/** 3 per 10 seconds, then a block of a minute. */
@SkipThrottle({ default: true, short: true, long: true })
@Controller('blocked')
class BlockedController {
  @Get() blocked() {
    return 'blocked';
  }
}

/** The same app on every instance: the guard makes the same keys for the same route and client. */
async function startInstance(adapter: (typeof ADAPTERS)[number], backing: ThrottlerBacking, clock: FakeClock): Promise<RunningApp> {
  return startApp(adapter, {
    imports: [
      ThrottlerModule.forRoot({
        throttlers: [
          { name: 'default', ttl: 60_000, limit: HOT_LIMIT },
          { name: 'short', ttl: 1_000, limit: 2 },
          { name: 'long', ttl: 60_000, limit: 5 },
          { name: 'strict', ttl: 10_000, limit: 3, blockDuration: 60_000 },
        ],
        // Each scenario (and each trial) is a client of its own.
        getTracker: (req) => String(req.headers['x-client']),
        storage: rampartThrottlerStorage(backing, { clock }),
      }),
    ],
    controllers: [HotController, NamedController, BlockedController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  });
}

/**
 * The scenarios, on Express and Fastify: `open` gives the backing of each of the two instances
 * (connections of their own to one shared store).
 */
export function describeSharedInstances(open: () => Promise<[ThrottlerBacking, ThrottlerBacking]>): void {
  describe.each(ADAPTERS)('two instances on %s', (adapter) => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    let instances: RunningApp[];
    /** Request `i` of a scenario goes to instance `i % 2`. */
    const get = (i: number, path: string, client: string) => instances[i % 2]!.http().get(path).set('x-client', `${adapter}-${client}`);

    beforeAll(async () => {
      const backings = await open();
      instances = await Promise.all(backings.map((backing) => startInstance(adapter, backing, clock)));
    });
    afterAll(async () => {
      for (const instance of instances ?? []) await instance.close();
    });

    it(`admits exactly ${HOT_LIMIT} of ${REQUESTS} concurrent requests split over both, ${TRIALS} trials in a row`, async () => {
      const admitted: number[] = [];
      for (let trial = 0; trial < TRIALS; trial++) {
        const responses = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => get(i, '/hot', `hot-${trial}`)));
        const statuses = responses.map((r) => r.status);
        expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
        admitted.push(statuses.filter((s) => s === 200).length);
        // Every admitted request saw its own count: remaining 49 down to 0, once each.
        const remaining = responses.filter((r) => r.status === 200).map((r) => Number(r.headers['x-ratelimit-remaining']));
        expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: HOT_LIMIT }, (_, n) => n));
      }
      expect(admitted).toEqual(Array(TRIALS).fill(HOT_LIMIT));
    }, 60_000);

    it('sets the headers of @nestjs/throttler, without a suffix for the default throttler', async () => {
      expect(limitHeaders(await get(0, '/hot', 'headers').expect(200))).toEqual({
        'x-ratelimit-limit': '50',
        'x-ratelimit-remaining': '49',
        'x-ratelimit-reset': '60',
      });
      clock.advance(30_000);
      // Reset: when every counted hit has expired, i.e. 60 s after the latest.
      expect(limitHeaders(await get(1, '/hot', 'headers').expect(200))).toEqual({
        'x-ratelimit-limit': '50',
        'x-ratelimit-remaining': '48',
        'x-ratelimit-reset': '60',
      });
      for (let i = 2; i < HOT_LIMIT; i++) await get(i, '/hot', 'headers').expect(200);
      // No blockDuration: the guard passes the ttl, so the refusal blocks for 60 s.
      expect(limitHeaders(await get(0, '/hot', 'headers').expect(429))).toEqual({ 'retry-after': '60' });
      clock.advance(59_000);
      expect(limitHeaders(await get(1, '/hot', 'headers').expect(429))).toEqual({ 'retry-after': '1' });
    });

    it('counts each named throttler apart, across both instances', async () => {
      const named = (i: number) => get(i, '/named', 'named');
      expect(limitHeaders(await named(0).expect(200))).toEqual({
        'x-ratelimit-limit-short': '2',
        'x-ratelimit-remaining-short': '1',
        'x-ratelimit-reset-short': '1',
        'x-ratelimit-limit-long': '5',
        'x-ratelimit-remaining-long': '4',
        'x-ratelimit-reset-long': '60',
      });
      expect((await named(1).expect(200)).headers['x-ratelimit-remaining-short']).toBe('0');
      // The short throttler refuses first (throttlers run by ascending ttl); the long one is not counted.
      expect(limitHeaders(await named(2).expect(429))).toEqual({ 'retry-after-short': '1' });
      clock.advance(1_000);
      expect((await named(3).expect(200)).headers['x-ratelimit-remaining-long']).toBe('2');
      expect((await named(4).expect(200)).headers['x-ratelimit-remaining-long']).toBe('1');
      clock.advance(1_000);
      expect((await named(5).expect(200)).headers['x-ratelimit-remaining-long']).toBe('0');
      expect(limitHeaders(await named(6).expect(429))).toEqual({
        'x-ratelimit-limit-short': '2',
        'x-ratelimit-remaining-short': '0',
        'x-ratelimit-reset-short': '1',
        'retry-after-long': '60',
      });
      clock.advance(30_000);
      expect((await named(7).expect(429)).headers['retry-after-long']).toBe('30');
      clock.advance(30_000);
      expect((await named(8).expect(200)).headers['x-ratelimit-remaining-long']).toBe('4');
    });

    it('refuses a blocked client on every instance until blockDuration has passed', async () => {
      const blocked = (i: number) => get(i, '/blocked', 'blocked');
      for (let i = 0; i < 3; i++) await blocked(i).expect(200);
      expect(limitHeaders(await blocked(3).expect(429))).toEqual({ 'retry-after-strict': '60' });
      expect(limitHeaders(await blocked(4).expect(429))).toEqual({ 'retry-after-strict': '60' });
      // The counted hits expire after 10 s; the block runs on.
      clock.advance(10_000);
      for (let i = 5; i < 7; i++) expect(limitHeaders(await blocked(i).expect(429))).toEqual({ 'retry-after-strict': '50' });
      clock.advance(49_999);
      for (let i = 7; i < 9; i++) expect(limitHeaders(await blocked(i).expect(429))).toEqual({ 'retry-after-strict': '1' });
      clock.advance(1);
      expect(limitHeaders(await blocked(9).expect(200))).toEqual({
        'x-ratelimit-limit-strict': '3',
        'x-ratelimit-remaining-strict': '2',
        'x-ratelimit-reset-strict': '10',
      });
      expect((await blocked(10).expect(200)).headers['x-ratelimit-remaining-strict']).toBe('1');
    });
  });
}
