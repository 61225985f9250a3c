/**
 * Jest globalSetup: provides a MongoDB for the Mongo suites and a Redis for the Redis suites.
 *
 * Redis: REDIS_URL already set, that server is used; otherwise a `redis-server` from PATH is started
 * on a free loopback port and its URL exported as REDIS_URL. If it cannot start, under CI the run
 * fails; locally RAMPART_REDIS_UNAVAILABLE carries the reason and each describeRedis() suite fails
 * with it. (The Redis Cluster suites start their own cluster.)
 *
 * - MONGO_URL already set: that server (a real MongoDB) is used and nothing is started.
 * - Otherwise the mongo-java-server stand-in is started and its URL exported as MONGO_URL; workers are
 *   started after this and inherit the environment (in-band runs share it).
 * - If it cannot start: under CI the whole run fails; locally a warning is printed and
 *   RAMPART_MONGO_UNAVAILABLE carries the reason, and each describeMongo() suite fails with it.
 *
 * It is started for every run, Mongo suites selected or not: it is ready in about 1 s on an idle
 * 2-core machine (under 3 s under load, plus one Maven fetch of the jars the first time), too little to
 * be worth guessing from the command line which suites Jest will select (globalSetup is not given the
 * final list of test files).
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MongoStandIn } from './mongo-server.js';

// Jest requires globalSetup outside its module registry, so moduleNameMapper (which maps './x.js' to
// './x') does not apply here; require without the extension, which Jest's TypeScript hook resolves.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startMongoStandIn, isCi } = require('./mongo-server') as typeof import('./mongo-server.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startRedisServer } = require('./redis-server') as typeof import('./redis-server.js');

/** Where globalTeardown finds the running server (both run in Jest's main process). */
const STAND_IN = Symbol.for('nest-rampart.test.mongoStandIn');
const REDIS = Symbol.for('nest-rampart.test.redisServer');

export default async function globalSetup(): Promise<void> {
  await Promise.all([setUpMongo(), setUpRedis()]);
}

async function setUpRedis(): Promise<void> {
  delete process.env['RAMPART_REDIS_UNAVAILABLE'];
  if (process.env['REDIS_URL']) {
    process.stderr.write(`Redis: using REDIS_URL (${redact(process.env['REDIS_URL'])}); no server started\n`);
    return;
  }
  try {
    const server = await startRedisServer();
    (globalThis as Record<symbol, unknown>)[REDIS] = server;
    process.env['REDIS_URL'] = server.url;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (isCi()) throw new Error(`Redis is required under CI (CI=${process.env['CI']}) but redis-server could not start:\n${reason}`, { cause: error });
    process.env['RAMPART_REDIS_UNAVAILABLE'] = reason;
    process.stderr.write(`\n!! Redis UNAVAILABLE: the Redis suites will FAIL.\n!! ${reason.split('\n').join('\n!! ')}\n\n`);
  }
}

async function setUpMongo(): Promise<void> {
  delete process.env['RAMPART_MONGO_UNAVAILABLE'];
  delete process.env['RAMPART_MONGO_STAND_IN'];

  if (process.env['MONGO_URL']) {
    process.stderr.write(`MongoDB: using MONGO_URL (${redact(process.env['MONGO_URL'])}); no stand-in started\n`);
    return;
  }

  const began = Date.now();
  // Server log lines go to a file rather than into the test output: the stand-in logs every failed
  // command (an expected duplicate-key error included) as an ERROR with the whole command.
  const logPath = join(process.cwd(), '.cache', 'mongo-stand-in.log');
  mkdirSync(dirname(logPath), { recursive: true });
  const logFile = createWriteStream(logPath, { flags: 'w' });
  try {
    const server = await startMongoStandIn({
      log: (message) => process.stderr.write(`MongoDB stand-in: ${message}\n`),
      onStderr: (line) => logFile.write(`${line}\n`),
    });
    (globalThis as Record<symbol, MongoStandIn | undefined>)[STAND_IN] = server;
    process.env['MONGO_URL'] = server.url;
    process.env['RAMPART_MONGO_STAND_IN'] = 'mongo-java-server';
    process.stderr.write(
      `MongoDB stand-in (mongo-java-server, ${server.backend}) listening at ${server.url}, ready in ${Date.now() - began} ms; server log: ${logPath}\n`,
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (isCi()) {
      throw new Error(`MongoDB is required under CI (CI=${process.env['CI']}) but the stand-in could not start:\n${reason}`, { cause: error });
    }
    process.env['RAMPART_MONGO_UNAVAILABLE'] = reason;
    const bar = '!'.repeat(78);
    process.stderr.write(
      `\n${bar}\n!! MongoDB UNAVAILABLE: the Mongo suites will FAIL.\n!! ${reason.split('\n').join('\n!! ')}\n` +
        `!! (Under CI this fails the run. Set MONGO_URL to use a running MongoDB instead.)\n${bar}\n\n`,
    );
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
