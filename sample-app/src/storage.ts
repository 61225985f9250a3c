import { memoryStorage, type RampartStorage } from 'nest-rampart';
import type { Settings } from './config.js';

/**
 * Where Rampart keeps its state:
 * - `REDIS_URL` and `MONGO_URL`: counters (and leases) in Redis, bans, violations and lists in MongoDB;
 * - `REDIS_URL`: everything in Redis;
 * - `MONGO_URL`: everything in MongoDB;
 * - neither: memory (one process, forgotten on restart).
 *
 * `nest-rampart/redis` and `nest-rampart/mongo` are imported only when used, so the app runs without
 * ioredis or Mongoose installed.
 */
export async function createStorage(settings: Settings): Promise<RampartStorage | { counters: RampartStorage; records: RampartStorage }> {
  const mongo = settings.mongoUrl === undefined ? undefined : await mongoStorageOf(settings.mongoUrl, settings.mongoDb);
  if (settings.redisUrl === undefined) return mongo ?? memoryStorage();
  const [{ Redis }, { redisStorage }] = await Promise.all([import('ioredis'), import('nest-rampart/redis')]);
  // Commands fail at once while Redis is unreachable instead of queueing: Rampart's outage policy answers.
  const client = new Redis(settings.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const redis = redisStorage({ client, quitOnClose: true, ...(settings.redisPrefix ? { prefix: settings.redisPrefix } : {}) });
  return mongo ? { counters: redis, records: mongo } : redis;
}

async function mongoStorageOf(uri: string, dbName: string): Promise<RampartStorage> {
  const { mongoStorage } = await import('nest-rampart/mongo');
  return mongoStorage({ uri, connectOptions: { dbName } });
}

/** Never log credentials that may be part of a connection string. */
const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

/** One line for the start-up log: where Rampart keeps its state. */
export function describeStorage(settings: Settings): string {
  const mongo = settings.mongoUrl && `MongoDB at ${redact(settings.mongoUrl)}, database ${settings.mongoDb} (MONGO_URL)`;
  const redis = settings.redisUrl && `Redis at ${redact(settings.redisUrl)}, keys under ${settings.redisPrefix ?? 'rampart:'} (REDIS_URL)`;
  if (redis && mongo) return `storage: counters in ${redis}; bans, violations and lists in ${mongo}`;
  if (redis) return `storage: ${redis}`;
  if (mongo) return `storage: ${mongo}`;
  return 'storage: in memory (this process only, forgotten on restart; set MONGO_URL or REDIS_URL to share it)';
}
