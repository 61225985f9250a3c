import { memoryStorage, type RampartStorage } from 'nest-rampart';
import type { Settings } from './config.js';

/**
 * MongoDB when `MONGO_URL` is set (counters, violations and bans shared by every instance and kept
 * across restarts), otherwise memory (one process, forgotten on restart). `nest-rampart/mongo` is
 * imported only when it is used, so the app runs without Mongoose installed.
 */
export async function createStorage(settings: Settings): Promise<RampartStorage> {
  if (settings.mongoUrl === undefined) return memoryStorage();
  const { mongoStorage } = await import('nest-rampart/mongo');
  return mongoStorage({ uri: settings.mongoUrl, connectOptions: { dbName: settings.mongoDb } });
}

/** One line for the start-up log: where Rampart keeps its state. */
export function describeStorage(settings: Settings): string {
  if (settings.mongoUrl === undefined) {
    return 'storage: in memory (this process only, forgotten on restart; set MONGO_URL to use MongoDB)';
  }
  // Never log credentials that may be part of the connection string.
  const url = settings.mongoUrl.replace(/\/\/[^@/]*@/, '//***@');
  return `storage: MongoDB at ${url}, database ${settings.mongoDb} (MONGO_URL)`;
}
