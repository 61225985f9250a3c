/**
 * Exactness across app instances: several Nest apps share one database through their own
 * connections, and concurrent requests from one client must admit exactly the limit, every trial.
 * Also counts the database commands each decision costs (driver command monitoring).
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import mongoose, { type Connection } from 'mongoose';
import request from 'supertest';
import type { CommandStartedEvent } from 'mongodb';
import { RateLimitModule, type AlgorithmName } from '../../lib/index.js';
import { MongoRateLimitStore } from '../../lib/storage/mongo/mongo-rate-limit.store.js';
import { FakeClock } from '../support/fake-clock.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { clientHeader, HotController } from './monitored.js';

const INSTANCES = 2;
const REQUESTS = 200;
const LIMIT = 50;
const TRIALS = 10;

interface Instance {
  app: INestApplication;
  connection: Connection;
  store: MongoRateLimitStore;
  commands: string[];
}

describeMongo('Mongo store under concurrency, several app instances', () => {
  const dbName = uniqueDbName('concurrency');
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 1));

  async function startInstances(algorithm: AlgorithmName, blockDurationMs = 0): Promise<Instance[]> {
    return Promise.all(
      Array.from({ length: INSTANCES }, async () => {
        const connection = await mongoose.createConnection(mongoUrl(), { dbName, monitorCommands: true }).asPromise();
        const commands: string[] = [];
        connection.getClient().on('commandStarted', (event: CommandStartedEvent) => {
          if (!['hello', 'isMaster', 'ismaster', 'endSessions', 'createIndexes'].includes(event.commandName)) commands.push(event.commandName);
        });
        const store = new MongoRateLimitStore(connection);
        await store.init();
        const moduleRef = await Test.createTestingModule({
          imports: [
            RateLimitModule.forRoot({
              store,
              clock,
              keyResolver: clientHeader,
              rules: [{ limit: LIMIT, windowMs: 60_000, algorithm, blockDurationMs }],
              // Only rate limiting is measured here, not escalation.
              ...({ escalation: false } as object),
              // Nor the outage policy: 200 concurrent decisions queue behind one another on the stand-in
              // (a token-bucket denial is 3 commands), and on a slow machine the last ones can take longer
              // than the default 500 ms, which would answer them by onStoreError ('allow') instead.
              storeTimeoutMs: 10_000,
            }),
          ],
          controllers: [HotController],
        }).compile();
        const app = moduleRef.createNestApplication({ logger: false });
        await app.init();
        return { app, connection, store, commands };
      }),
    );
  }

  async function stopInstances(instances: Instance[]) {
    for (const { app, connection, store } of instances) {
      await store.flush();
      await app.close();
      await connection.close();
    }
  }

  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  describe.each<AlgorithmName>(['fixed-window', 'token-bucket', 'sliding-window', 'gcra', 'sliding-log'])('%s', (algorithm) => {
    let instances: Instance[];
    beforeAll(async () => {
      instances = await startInstances(algorithm);
    });
    afterAll(() => stopInstances(instances));

    it(`admits exactly ${LIMIT} of ${REQUESTS} concurrent requests over ${INSTANCES} instances, ${TRIALS} trials in a row`, async () => {
      const admitted: number[] = [];
      for (let trial = 0; trial < TRIALS; trial++) {
        const client = `${algorithm}-trial-${trial}`;
        const statuses = await Promise.all(
          Array.from({ length: REQUESTS }, (_, i) =>
            request(instances[i % INSTANCES].app.getHttpServer())
              .get('/hot')
              .set('x-client', client)
              .then((r) => r.status),
          ),
        );
        expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
        admitted.push(statuses.filter((s) => s === 200).length);
      }
      expect(admitted).toEqual(Array(TRIALS).fill(LIMIT));
    }, 120_000);
  });

  describe('database round trips', () => {
    it.each<AlgorithmName>(['fixed-window', 'sliding-window', 'token-bucket', 'gcra', 'sliding-log'])(
      '%s: one command per allowed decision, none for a client known to be blocked',
      async (algorithm) => {
        const instances = await startInstances(algorithm, 60_000);
        const [{ app, commands, store }] = instances;
        try {
          const client = `${algorithm}-round-trips`;
          const perAllowed: number[] = [];
          for (let i = 0; i < LIMIT; i++) {
            commands.length = 0;
            await request(app.getHttpServer()).get('/hot').set('x-client', client).expect(200);
            perAllowed.push(commands.length);
          }
          await request(app.getHttpServer()).get('/hot').set('x-client', client).expect(429); // starts the rule's block
          await store.flush();
          commands.length = 0;
          for (let i = 0; i < 20; i++) await request(app.getHttpServer()).get('/hot').set('x-client', client).expect(429);
          const perBlocked = commands.length / 20;
          const firstAllowed = perAllowed[0];
          const steady = perAllowed.slice(1);
          console.info(
            `${algorithm}: commands per allowed decision: first ${firstAllowed}, then max ${Math.max(...steady)} ` +
              `(mean ${(steady.reduce((a, b) => a + b, 0) / steady.length).toFixed(2)}); per blocked request: ${perBlocked}`,
          );
          // The sliding log reads a key it has never seen before its first compare-and-set.
          expect(firstAllowed).toBe(algorithm === 'sliding-log' ? 2 : 1);
          expect(steady.every((n) => n === 1)).toBe(true);
          expect(perBlocked).toBe(0);
        } finally {
          await stopInstances(instances);
        }
      },
      60_000,
    );
  });
});
