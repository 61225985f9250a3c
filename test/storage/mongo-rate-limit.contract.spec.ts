import mongoose, { type Connection } from 'mongoose';
import { MongoRateLimitStore } from '../../lib/storage/mongo/mongo-rate-limit.store.js';
import type { RateLimitStore } from '../../lib/storage/rate-limit-store.interface.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { rateLimitStoreContract } from './contracts/rate-limit-store.contract.js';

describeMongo('MongoRateLimitStore', () => {
  const dbName = uniqueDbName('rate_limit_contract');
  const connections: Connection[] = [];
  const connect = async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    connections.push(connection);
    return connection;
  };
  afterAll(async () => {
    await connections[0]?.dropDatabase();
    await Promise.all(connections.map((c) => c.close()));
  });

  rateLimitStoreContract('MongoRateLimitStore', {
    create: async () => {
      const store = new MongoRateLimitStore(await connect());
      await store.init();
      return store;
    },
    createPeer: async () => new MongoRateLimitStore(await connect()),
    settle: (store: RateLimitStore) => (store as MongoRateLimitStore).flush(),
  });

  describe('memory of the process', () => {
    const T0 = Date.UTC(2030, 0, 1);
    const blocking = { name: 'r', algorithm: 'fixed-window', limit: 1, windowMs: 10_000, blockDurationMs: 60_000 } as const;
    const knownBlocks = (store: MongoRateLimitStore) => (store as unknown as { blocks: Map<string, number> }).blocks.size;

    it('remembers at most hintCacheSize rule blocks, however many keys are blocked', async () => {
      const store = new MongoRateLimitStore(await connect(), { collectionName: 'rampart_blocks_bound', hintCacheSize: 5 });
      await store.init();
      for (let i = 0; i < 20; i++) {
        const key = `bound:${i}`;
        expect((await store.consume(key, blocking, T0, 1)).allowed).toBe(true);
        expect(await store.consume(key, blocking, T0, 1)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 60_000 });
      }
      await store.flush();
      expect(knownBlocks(store)).toBeLessThanOrEqual(5);
      // A block no longer remembered here is still enforced from the database.
      expect(await store.consume('bound:0', blocking, T0 + 30_000, 1)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 60_000 });
    });
  });
});
