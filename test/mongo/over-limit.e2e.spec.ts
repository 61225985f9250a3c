/**
 * What a client over its limit costs the database: nothing once a denial is known (it is answered
 * from memory until its retry time). Commands are counted with the driver's command monitoring.
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RateLimitModule, type AlgorithmName } from '../../lib/index.js';
import { MongoRateLimitStore } from '../../lib/storage/mongo/mongo-rate-limit.store.js';
import { describeMongo, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { clientHeader, HotController, monitoredConnections } from './monitored.js';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 1);
const LIMIT = 5;

describeMongo('a client over its limit, MongoDB store', () => {
  const dbName = uniqueDbName('over_limit');
  const connections = monitoredConnections(dbName);
  afterAll(() => connections.close());
  const monitored = () => connections.open();

  describe.each<AlgorithmName>(['fixed-window', 'sliding-window', 'token-bucket', 'gcra', 'sliding-log'])('%s, escalation off', (algorithm) => {
    let app: INestApplication;
    let store: MongoRateLimitStore;
    let commands: string[];
    const clock = new FakeClock(T0);
    beforeAll(async () => {
      const monitoredConnection = await monitored();
      commands = monitoredConnection.commands;
      store = new MongoRateLimitStore(monitoredConnection.connection, { collectionName: `limits_${algorithm}` });
      await store.init();
      const moduleRef = await Test.createTestingModule({
        imports: [
          RateLimitModule.forRoot({
            store,
            clock,
            keyResolver: clientHeader,
            escalation: false,
            rules: [{ limit: LIMIT, windowMs: 60_000, algorithm }],
          }),
        ],
        controllers: [HotController],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
    });
    afterAll(async () => {
      await store.flush();
      await app.close();
    });

    it('costs 0 database commands per request once denied, with the same 429 and a Retry-After that counts down', async () => {
      const hot = () => request(app.getHttpServer()).get('/hot').set('x-client', `${algorithm}-over`);
      for (let i = 0; i < LIMIT; i++) await hot().expect(200);
      const first = await hot().expect(429);
      await store.flush();
      commands.length = 0;
      const retryAfter: number[] = [];
      for (let i = 0; i < 20; i++) {
        clock.advance(500);
        const res = await hot().expect(429);
        expect(res.headers['ratelimit-policy']).toBe(first.headers['ratelimit-policy']);
        expect(res.headers['ratelimit']).toMatch(/;r=0;/);
        retryAfter.push(Number(res.headers['retry-after']));
      }
      console.info(`${algorithm}: database commands per over-limit request: ${commands.length / 20}`);
      expect(commands).toEqual([]);
      expect(retryAfter[0]).toBeLessThanOrEqual(Number(first.headers['retry-after']));
      expect(retryAfter.every((s, i) => i === 0 || s <= retryAfter[i - 1])).toBe(true);
      expect(retryAfter.at(-1)).toBeLessThan(retryAfter[0]);
      // Its retry time reached, the client is counted by the store again.
      clock.advance(retryAfter.at(-1)! * 1_000);
      await hot().expect(200);
      expect(commands.length).toBeGreaterThan(0);
    });
  });
});
