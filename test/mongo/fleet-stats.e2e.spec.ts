/** Fleet-wide statistics on MongoDB: two instances on one database (see fleetStatsScenario). */
import mongoose from 'mongoose';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { fleetStatsScenario } from '../admin/fleet-stats.scenario.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';

describeMongo('fleet-wide statistics on MongoDB (two instances)', () => {
  const dbName = uniqueDbName('fleet_stats');
  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  fleetStatsScenario(() => mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false }));
});
