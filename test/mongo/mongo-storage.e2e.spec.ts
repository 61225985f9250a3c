/**
 * mongoStorage() in a real app: on the app's own @nestjs/mongoose connection (by connection name) or
 * on a connection of its own, indexes created at startup, and state that survives a restart.
 */
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { getConnectionToken, MongooseModule } from '@nestjs/mongoose';
import { Test } from '@nestjs/testing';
import mongoose, { type Connection } from 'mongoose';
import request from 'supertest';
import { RateLimitModule } from '../../lib/index.js';
import { mongoStorage, type MongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';

@Controller()
class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

const RULES = [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' as const }];

describeMongo('mongoStorage', () => {
  const dbName = uniqueDbName('mongo_storage');
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 5));

  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  it('runs on the app’s named Mongoose connection, creates its indexes and never closes that connection', async () => {
    let storage: MongoStorage | undefined;
    const moduleRef = await Test.createTestingModule({
      imports: [
        MongooseModule.forRoot(mongoUrl(), { dbName, connectionName: 'limits' }),
        RateLimitModule.forRootAsync({
          inject: [getConnectionToken('limits')],
          useFactory: (connection: Connection) => {
            storage = mongoStorage({ connection, sweepIntervalMs: false });
            return { storage, clock, rules: RULES, escalation: false };
          },
        }),
      ],
      controllers: [PingController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const connection = moduleRef.get<Connection>(getConnectionToken('limits'));
    try {
      await request(app.getHttpServer()).get('/ping').expect(200);
      await request(app.getHttpServer()).get('/ping').expect(200);
      await request(app.getHttpServer()).get('/ping').expect(429);
      expect(storage!.connection).toBe(connection);
      const indexes = (await connection.db!.collection('rampart_rate_limits').listIndexes().toArray()).map((i) => i['name']);
      expect(indexes).toContain('e_ttl');
      const banIndexes = (await connection.db!.collection('rampart_bans').listIndexes().toArray()).map((i) => i['name']);
      expect(banIndexes).toEqual(expect.arrayContaining(['purgeAt_1', 'updatedAtMs_-1__id_-1']));
      await storage!.close();
      expect(connection.readyState).toBe(mongoose.ConnectionStates.connected);
    } finally {
      await app.close();
    }
  });

  it('opens its own connection from a URI, keeps counters across a restart of the app, and closes it', async () => {
    const boot = async (): Promise<{ app: INestApplication; storage: MongoStorage }> => {
      const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, collections: { rateLimits: 'restart_limits' }, sweepIntervalMs: false });
      const moduleRef = await Test.createTestingModule({
        imports: [RateLimitModule.forRoot({ storage, clock, rules: RULES, escalation: false })],
        controllers: [PingController],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      return { app, storage };
    };
    const first = await boot();
    await request(first.app.getHttpServer()).get('/ping').expect(200);
    await request(first.app.getHttpServer()).get('/ping').expect(200);
    await first.app.close();
    expect(first.storage.connection.readyState).toBe(mongoose.ConnectionStates.disconnected);

    const second = await boot();
    try {
      await request(second.app.getHttpServer()).get('/ping').expect(429);
    } finally {
      await second.app.close();
    }
  });

  it('refuses to start without exactly one of connection or uri', () => {
    expect(() => mongoStorage({})).toThrow(/exactly one of `connection`/);
  });

  describe('expired documents: TTL indexes, or the sweeper', () => {
    const T0 = Date.UTC(2030, 0, 1);
    const rule = { name: 'r', algorithm: 'fixed-window', limit: 5, windowMs: 10_000, blockDurationMs: 0 } as const;
    let fresh = 0;
    /** Collections of their own, so that TTL and plain indexes never meet. */
    const collections = () => {
      const n = ++fresh;
      return {
        rateLimits: `sw_limits_${n}`,
        bans: `sw_bans_${n}`,
        violations: `sw_violations_${n}`,
        accessList: `sw_access_${n}`,
        leases: `sw_leases_${n}`,
        stats: `sw_stats_${n}`,
        adaptive: `sw_adaptive_${n}`,
      };
    };
    const ttlOf = async (storage: MongoStorage, collection: string, index: string) =>
      (await storage.connection.db!.collection(collection).listIndexes().toArray()).find((i) => i['name'] === index)?.['expireAfterSeconds'];

    it('leaves them to the TTL indexes by default: the sweeper does not run', async () => {
      const names = collections();
      const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, collections: names });
      try {
        await storage.init();
        expect(storage.sweeper.started).toBe(false);
        expect(await ttlOf(storage, names.rateLimits, 'e_ttl')).toBe(0);
        expect(await ttlOf(storage, names.bans, 'purgeAt_1')).toBe(0);
        expect(await ttlOf(storage, names.stats, 'e_ttl')).toBe(0);
      } finally {
        await storage.close();
      }
    });

    it('runs the sweeper with sweeper: true, deleting expired counters as well, until closed', async () => {
      const names = collections();
      const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, collections: names, sweeper: true, clock });
      try {
        await storage.init();
        expect(storage.sweeper.started).toBe(true);
        await storage.rateLimits.consume('swept', rule, T0, 1);
        expect(await storage.sweeper.sweepOnce(T0 + 9_999)).toMatchObject({ rateLimits: 0 });
        expect(await storage.sweeper.sweepOnce(T0 + 10_001)).toMatchObject({ rateLimits: 1 });
        expect(await storage.rateLimits.collection.countDocuments({})).toBe(0);
      } finally {
        await storage.close();
      }
      expect(storage.sweeper.started).toBe(false);
    });

    it('with ttlIndexes: false creates plain expiry indexes and runs the sweeper (unless sweepIntervalMs is false)', async () => {
      const names = collections();
      const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, collections: names, ttlIndexes: false });
      try {
        await storage.init();
        expect(storage.sweeper.started).toBe(true);
        expect(await ttlOf(storage, names.rateLimits, 'e_ttl')).toBeUndefined();
        expect(await ttlOf(storage, names.violations, 'purgeAt_1')).toBeUndefined();
        expect(await ttlOf(storage, names.leases, 'e_ttl')).toBeUndefined();
        expect(await ttlOf(storage, names.stats, 'e_ttl')).toBeUndefined();
        expect(await ttlOf(storage, names.adaptive, 'e_ttl')).toBeUndefined();
      } finally {
        await storage.close();
      }
      const off = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, collections: names, ttlIndexes: false, sweepIntervalMs: false });
      try {
        await off.init();
        expect(off.sweeper.started).toBe(false);
      } finally {
        await off.close();
      }
    });

    it('refuses a sweeper or ttlIndexes that is not a boolean', () => {
      expect(() => mongoStorage({ uri: mongoUrl(), sweeper: 'auto' as unknown as boolean })).toThrow(/sweeper must be true or false/);
      expect(() => mongoStorage({ uri: mongoUrl(), ttlIndexes: 0 as unknown as boolean })).toThrow(/ttlIndexes must be true or false/);
    });
  });
});
