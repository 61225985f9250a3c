/**
 * The adapter against @nestjs/throttler's own storage, on the same random sequences of requests:
 * they refuse the same requests, give the same Retry-After and count the same hits, for every
 * blockDuration of 0 or at least ttl (shorter blocks differ on purpose, see the adapter's JSDoc).
 */
import fc from 'fast-check';
import { MemoryRateLimitStore } from '../../../lib/storage/memory-rate-limit.store.js';
import { rampartThrottlerStorage } from '../../../lib/throttler/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { fuzzParams } from '../../fuzz/fuzz-settings.js';
import { real } from '../support/libs.js';
import { START, useFakeDate } from '../support/time.js';

const NAMES = ['default', 'short'];

const scenario = fc.record({
  ttl: fc.constantFrom(1_000, 1_500, 10_000),
  limit: fc.integer({ min: 1, max: 4 }),
  blockFactor: fc.constantFrom(0, 1, 1.7, 3),
  steps: fc.array(
    fc.record({
      // Mostly short steps, so that hits pile up; now and then one past ttl.
      advanceMs: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 12_000 })),
      name: fc.constantFrom(...NAMES),
      client: fc.constantFrom('a', 'b'),
    }),
    { minLength: 1, maxLength: 60 },
  ),
});

describe('RampartThrottlerStorage against the storage of @nestjs/throttler', () => {
  beforeAll(() => useFakeDate());
  afterAll(() => jest.useRealTimers());

  it('refuses, blocks and counts alike', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ ttl, limit, blockFactor, steps }) => {
        jest.setSystemTime(START);
        const clock = new FakeClock(START);
        const theirs = new real.ThrottlerStorageService();
        const ours = rampartThrottlerStorage(new MemoryRateLimitStore(), { clock });
        const blockDuration = Math.round(ttl * blockFactor);
        try {
          for (const [i, { advanceMs, name, client }] of steps.entries()) {
            clock.advance(advanceMs);
            jest.setSystemTime(clock.now());
            // As the guard's generateKey does, the key holds the throttler name.
            const key = `${name}-${client}`;
            const expected = await theirs.increment(key, ttl, limit, blockDuration, name);
            const actual = await ours.increment(key, ttl, limit, blockDuration, name);
            const at = `step ${i} at +${clock.now() - START} ms`;
            expect([at, actual.isBlocked, actual.isBlocked ? actual.timeToBlockExpire : 0]).toEqual([
              at,
              expected.isBlocked,
              expected.isBlocked ? expected.timeToBlockExpire : 0,
            ]);
            if (!actual.isBlocked) expect([at, actual.totalHits]).toEqual([at, expected.totalHits]);
          }
        } finally {
          theirs.onApplicationShutdown();
        }
      }),
      fuzzParams(300),
    );
  });
});
