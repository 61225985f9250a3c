import mongoose from 'mongoose';
import { MongoRateLimitStore } from '../../lib/storage/mongo/mongo-rate-limit.store.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { sharedLoginScenario } from './shared-login.scenario.js';

describeMongo('failed logins counted on MongoDB across two instances', () => {
  const dbName = uniqueDbName('outcome_login');
  sharedLoginScenario(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    const store = new MongoRateLimitStore(connection);
    await store.init();
    return {
      store,
      async close() {
        await connection.dropDatabase().catch(() => undefined);
        await connection.close();
      },
    };
  });
});
