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
});
