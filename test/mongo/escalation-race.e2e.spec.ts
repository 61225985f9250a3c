/**
 * Two app instances, each with its own connection to one database, escalating one client at the
 * same moment: one block is written and counted once, and both instances answer with it.
 */
import mongoose from 'mongoose';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { escalationRaceSuite } from '../protection/escalation-race.scenario.js';

describeMongo('escalation race on MongoDB', () => {
  const dbName = uniqueDbName('escalation_race');

  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  escalationRaceSuite('Mongo storage, two connections', {
    storage: (clock) => mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock }),
  });
});
