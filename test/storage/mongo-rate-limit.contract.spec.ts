import mongoose, { type Connection } from 'mongoose';
import type { RampartLogger } from '../../lib/core/logger.js';
import { MongoRateLimitStore } from '../../lib/storage/mongo/mongo-rate-limit.store.js';
import type { RateLimitStore } from '../../lib/storage/rate-limit-store.interface.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { rateLimitRefundContract } from './contracts/rate-limit-refund.contract.js';
import { rateLimitStoreContract, type RateLimitStoreHarness } from './contracts/rate-limit-store.contract.js';

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

  const harness: RateLimitStoreHarness = {
    create: async () => {
      const store = new MongoRateLimitStore(await connect());
      await store.init();
      return store;
    },
    createPeer: async () => new MongoRateLimitStore(await connect()),
    settle: (store: RateLimitStore) => (store as MongoRateLimitStore).flush(),
  };
  rateLimitStoreContract('MongoRateLimitStore', harness);
  rateLimitRefundContract('MongoRateLimitStore', harness);

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

  describe('writes made after answering', () => {
    const T0 = Date.UTC(2030, 0, 1);
    const rule = { name: 'r', algorithm: 'fixed-window', limit: 1, windowMs: 10_000, blockDurationMs: 0 } as const;

    function recordingLogger(): RampartLogger & { warnings: string[] } {
      const warnings: string[] = [];
      return { warnings, log: () => undefined, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) };
    }

    it('logs and counts a given-back increment that fails, and keeps answering', async () => {
      const logger = recordingLogger();
      const store = new MongoRateLimitStore(await connect(), { collectionName: 'rampart_write_backs', logger });
      await store.init();
      expect((await store.consume('wb', rule, T0, 1)).allowed).toBe(true);
      const updateOne = jest.spyOn(store.collection, 'updateOne').mockRejectedValueOnce(new Error('connection reset'));
      try {
        expect((await store.consume('wb', rule, T0 + 1, 1)).allowed).toBe(false);
        await store.flush();
      } finally {
        updateOne.mockRestore();
      }
      expect(store.stats).toMatchObject({ compensations: 1, failedWriteBacks: 1 });
      expect(logger.warnings).toEqual([expect.stringMatching(/giving back the denied increment \(1\) of key "wb" failed.*: connection reset$/)]);
      // The increment that could not be given back still counts until the window ends.
      expect(await store.get('wb', rule, T0 + 2)).toMatchObject({ allowed: false, remaining: 0 });
      expect((await store.consume('wb', rule, T0 + 10_000, 1)).allowed).toBe(true);
      await store.flush();
      expect(store.stats.failedWriteBacks).toBe(1);
    });
  });
});
