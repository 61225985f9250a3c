/** Jest globalTeardown: stops the MongoDB stand-in that globalSetup started, if any. */
import type { MongoStandIn } from './mongo-server.js';

const STAND_IN = Symbol.for('nest-rampart.test.mongoStandIn');

export default async function globalTeardown(): Promise<void> {
  const slots = globalThis as Record<symbol, MongoStandIn | undefined>;
  const server = slots[STAND_IN];
  if (!server) return;
  delete slots[STAND_IN];
  await server.stop();
}
