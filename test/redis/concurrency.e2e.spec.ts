/**
 * Exactness across app instances: several Nest apps share one Redis through clients of their own,
 * and concurrent requests from one client must admit exactly the limit, every trial.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ALGORITHM_NAMES } from '../../lib/core/algorithms/index.js';
import { RedisRateLimitStore } from '../../lib/storage/redis/redis-rate-limit.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { FakeClock } from '../support/fake-clock.js';
import { describeRedis, redisClients } from '../harness/redis.js';
import { startHotApp } from './hot-app.js';

const INSTANCES = 2;
const REQUESTS = 200;
const LIMIT = 50;
const TRIALS = 10;

describeRedis('Redis store under concurrency, several app instances', () => {
  const redis = redisClients('concurrency');
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 1));

  describe.each(ALGORITHM_NAMES)('%s', (algorithm) => {
    let apps: INestApplication[];
    beforeAll(async () => {
      apps = await Promise.all(
        Array.from({ length: INSTANCES }, () => {
          const store = new RedisRateLimitStore(scriptClientOf(redis.connect()), { prefix: redis.prefix });
          return startHotApp(store, clock, { algorithm, limit: LIMIT, windowMs: 60_000 });
        }),
      );
    });
    afterAll(() => Promise.all(apps.map((app) => app.close())));

    it(`admits exactly ${LIMIT} of ${REQUESTS} concurrent requests over ${INSTANCES} instances, ${TRIALS} trials in a row`, async () => {
      const admitted: number[] = [];
      for (let trial = 0; trial < TRIALS; trial++) {
        const client = `${algorithm}-trial-${trial}`;
        const statuses = await Promise.all(
          Array.from({ length: REQUESTS }, (_, i) =>
            request(apps[i % INSTANCES].getHttpServer())
              .get('/hot')
              .set('x-client', client)
              .then((r) => r.status),
          ),
        );
        expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
        admitted.push(statuses.filter((s) => s === 200).length);
      }
      expect(admitted).toEqual(Array(TRIALS).fill(LIMIT));
    }, 60_000);
  });
});
