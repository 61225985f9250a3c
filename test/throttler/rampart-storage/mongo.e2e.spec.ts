/**
 * RampartThrottlerStorage on MongoDB under the real @nestjs/throttler: two app instances, each with
 * a connection of its own, share exact counts. One instance passes a whole storage opened from a
 * `uri` (closed with the app), the other the rate-limit store of the app's own connection.
 */
import { mongoStorage, type MongoStorage } from '../../../lib/storage/mongo/index.js';
import { describeMongo, mongoConnections, mongoUrl } from '../../harness/mongo.js';
import { describeSharedInstances } from './shared-instances.js';

describeMongo('RampartThrottlerStorage on MongoDB with @nestjs/throttler', () => {
  const connections = mongoConnections('throttler_storage');
  const owned: MongoStorage[] = [];

  describeSharedInstances(async () => {
    const fromUri = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName: connections.dbName } });
    owned.push(fromUri);
    return [fromUri, mongoStorage({ connection: await connections.connect() }).rateLimits];
  });

  // After the apps' own afterAll: closing an app closed the connection its storage opened from a uri.
  afterAll(() => {
    expect(owned).toHaveLength(2);
    expect(owned.map((storage) => storage.connection.readyState)).toEqual([0, 0]);
  });
});
