/** Jest globalTeardown: stops the MongoDB stand-in and the Redis server that globalSetup started, if any. */
import type { MongoStandIn } from './mongo-server.js';
import type { RedisServer } from './redis-server.js';

const STAND_IN = Symbol.for('nest-rampart.test.mongoStandIn');
const REDIS = Symbol.for('nest-rampart.test.redisServer');

export default async function globalTeardown(): Promise<void> {
  const redis = (globalThis as Record<symbol, RedisServer | undefined>)[REDIS];
  delete (globalThis as Record<symbol, unknown>)[REDIS];
  await redis?.dispose();
  const slots = globalThis as Record<symbol, MongoStandIn | undefined>;
  const server = slots[STAND_IN];
  if (!server) return;
  delete slots[STAND_IN];
  await server.stop();
}
