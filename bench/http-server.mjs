// One benchmark case's server, run in a child process of bench/http.mjs so that no two cases share a
// heap or JIT state. The same Nest app (Express, one controller, `GET /` returning a small JSON) is
// built for every case; only the rate limiting differs. Clients are told apart by the x-client-id
// header in every limiter.
//
//   BENCH_CASE=<case id> [MONGO_URL=... BENCH_DB=...] [REDIS_URL=... BENCH_REDIS_PREFIX=...] node bench/http-server.mjs
//   (with an IPC channel)
//
// Protocol over IPC: the child sends { type: 'ready', port }; the parent sends { type: 'start' } and
// { type: 'stop' } around the measured window (the child answers 'stop' with what it counted there:
// requests by status, database commands by name and collection, or Redis commands from the server's
// INFO commandstats, CPU time) and { type: 'close' }.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Controller, Get, HttpException, HttpStatus, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import mongoose from 'mongoose';
import { RateLimitModule } from 'nest-rampart';
import { mongoStorage } from 'nest-rampart/mongo';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';

export const CLIENT_HEADER = 'x-client-id';
const WINDOW_MS = 60_000;
const NEVER_DENY = 1e9;
/** The blocked-client cases: one request per window, then a block far longer than the run. */
const BLOCKED_LIMIT = 1;
const BLOCK_MS = 600_000;

const caseId = process.env.BENCH_CASE;
const mongoUrl = process.env.MONGO_URL;
const dbName = process.env.BENCH_DB ?? `bench_${caseId}`;
const redisUrl = process.env.REDIS_URL;
/** Every Redis key of this case starts with it (both limiters), so that rounds share no state. */
const redisPrefix = process.env.BENCH_REDIS_PREFIX ?? `bench:${caseId}:`;

// ---- the app ----------------------------------------------------------------------------------

class AppController {
  hello() {
    return { hello: 'world' };
  }
}
Controller()(AppController);
Get()(AppController.prototype, 'hello', Object.getOwnPropertyDescriptor(AppController.prototype, 'hello'));

const clientKey = (request) => request.headers[CLIENT_HEADER];

/** A guard on rate-limiter-flexible, as its documentation suggests writing one for Nest. */
class RateLimiterFlexibleGuard {
  constructor(limiter) {
    this.limiter = limiter;
  }

  async canActivate(context) {
    const http = context.switchToHttp();
    const request = http.getRequest();
    const response = http.getResponse();
    try {
      const result = await this.limiter.consume(clientKey(request) ?? request.ip);
      response.setHeader('X-RateLimit-Limit', String(this.limiter.points));
      response.setHeader('X-RateLimit-Remaining', String(result.remainingPoints));
      response.setHeader('X-RateLimit-Reset', String(Math.ceil(result.msBeforeNext / 1000)));
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection; // a store error
      response.setHeader('Retry-After', String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
      throw new HttpException('Too Many Requests', HttpStatus.TOO_MANY_REQUESTS);
    }
  }
}

/**
 * rate-limiter-flexible's options, the same on every store: a limit never reached, or (blocked
 * cases) one request a window, then a block far longer than the run.
 */
function rlfLimits(blocked) {
  return { points: blocked ? BLOCKED_LIMIT : NEVER_DENY, duration: WINDOW_MS / 1000, ...(blocked ? { blockDuration: BLOCK_MS / 1000 } : {}) };
}

/** Rampart's rule with the same limits (the default algorithm, sliding window). */
const rampartRule = (blocked) =>
  blocked ? { limit: BLOCKED_LIMIT, windowMs: WINDOW_MS, blockDurationMs: BLOCK_MS } : { limit: NEVER_DENY, windowMs: WINDOW_MS };

/** Rampart's module on `storage`: one rule, escalation off. */
function rampartModule(storage, rule) {
  return RateLimitModule.forRoot({ rules: [rule], escalation: false, storage, keyResolver: (c) => clientKey(c.switchToHttp().getRequest()) });
}

/** Mongoose connections whose driver commands are counted. */
const monitored = [];
/** The Redis client of a Redis case: its commands are tallied, and the server's INFO read through it. */
let redis;

async function caseImports() {
  switch (caseId) {
    case 'none':
      return { imports: [], providers: [] };
    case 'empty-guard':
      // Reference: the cost of Nest's guard machinery itself, with a guard that does nothing.
      return { imports: [], providers: [{ provide: APP_GUARD, useValue: { canActivate: () => true } }] };
    case 'headers-guard':
      // Reference: a guard that only writes headers of Rampart's size (IETF RateLimit-Policy and RateLimit).
      return {
        imports: [],
        providers: [
          {
            provide: APP_GUARD,
            useValue: {
              canActivate(context) {
                const response = context.switchToHttp().getResponse();
                response.setHeader('RateLimit-Policy', '"default";q=1000000000;w=60');
                response.setHeader('RateLimit', '"default";r=999999999;t=120');
                return true;
              },
            },
          },
        ],
      };
    case 'empty-guard-async':
      return { imports: [], providers: [{ provide: APP_GUARD, useValue: { canActivate: async () => true } }] };
    case 'throttler':
      return {
        imports: [ThrottlerModule.forRoot({ throttlers: [{ ttl: WINDOW_MS, limit: NEVER_DENY }], getTracker: clientKey })],
        providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
      };
    case 'rampart-memory':
    case 'rampart-memory-metrics': {
      const metrics = [];
      if (caseId === 'rampart-memory-metrics') {
        // The Prometheus metrics registered (in a registry of their own, no route: nothing scrapes during the run).
        const { RampartMetricsModule } = await import('nest-rampart/metrics');
        const { Registry } = await import('prom-client');
        metrics.push(RampartMetricsModule.forRoot({ registry: new Registry(), path: false }));
      }
      return {
        imports: [
          RateLimitModule.forRoot({
            rules: [{ limit: NEVER_DENY, windowMs: WINDOW_MS }],
            escalation: false,
            keyResolver: (c) => clientKey(c.switchToHttp().getRequest()),
          }),
          ...metrics,
        ],
        providers: [],
      };
    }
    case 'rlf-mongo':
    case 'rlf-mongo-blocked': {
      const connection = mongoose.createConnection(mongoUrl, { dbName, monitorCommands: true });
      await connection.asPromise();
      monitored.push(connection);
      const limiter = new RateLimiterMongo({ storeClient: connection, tableName: 'rlf_rate_limits', ...rlfLimits(caseId === 'rlf-mongo-blocked') });
      await limiter.createIndexes();
      return { imports: [], providers: [{ provide: APP_GUARD, useValue: new RateLimiterFlexibleGuard(limiter) }], close: () => connection.close() };
    }
    case 'rampart-mongo':
    case 'rampart-mongo-blocked': {
      const storage = mongoStorage({ uri: mongoUrl, connectOptions: { dbName, monitorCommands: true } });
      monitored.push(storage.connection);
      return { imports: [rampartModule(storage, rampartRule(caseId === 'rampart-mongo-blocked'))], providers: [] };
    }
    case 'rampart-mongo-over-limit':
    case 'rampart-mongo-over-limit-tb': {
      // One request per window and no rule block: every later request is denied by the algorithm.
      const storage = mongoStorage({ uri: mongoUrl, connectOptions: { dbName, monitorCommands: true } });
      monitored.push(storage.connection);
      const algorithm = caseId === 'rampart-mongo-over-limit' ? 'sliding-window' : 'token-bucket';
      return { imports: [rampartModule(storage, { limit: BLOCKED_LIMIT, windowMs: WINDOW_MS, algorithm })], providers: [] };
    }
    case 'rlf-redis':
    case 'rlf-redis-blocked':
    case 'rlf-redis-blocked-in-memory': {
      // An ioredis client given as storeClient, as rate-limiter-flexible's documentation shows for
      // ioredis (useRedisPackage is for node-redis); its decision script is sent by EVALSHA.
      const { RateLimiterRedis } = await import('rate-limiter-flexible');
      redis = await connectRedis();
      const blocked = caseId !== 'rlf-redis';
      const limiter = new RateLimiterRedis({
        storeClient: redis.client,
        keyPrefix: redisPrefix.slice(0, -1), // it adds the ':' itself
        ...rlfLimits(blocked),
        // Reference: its own answer to a blocked key without a round trip, held for the block.
        ...(caseId === 'rlf-redis-blocked-in-memory' ? { inMemoryBlockOnConsumed: BLOCKED_LIMIT + 1 } : {}),
      });
      return { imports: [], providers: [{ provide: APP_GUARD, useValue: new RateLimiterFlexibleGuard(limiter) }], close: () => redis.close() };
    }
    case 'rampart-redis':
    case 'rampart-redis-blocked': {
      const { redisStorage } = await import('nest-rampart/redis');
      redis = await connectRedis();
      const storage = redisStorage({ client: redis.client, prefix: redisPrefix });
      // The decision's scripts; the storage's others run its ban and list polls (every second).
      redis.decisionShas = new Set(storage.rateLimits.scripts.map((script) => script.sha));
      for (const script of storage.rateLimits.scripts) redis.scriptNames.set(script.sha, script.name);
      return { imports: [rampartModule(storage, rampartRule(caseId === 'rampart-redis-blocked'))], providers: [], close: () => redis.close() };
    }
    default:
      throw new Error(`unknown BENCH_CASE ${caseId}`);
  }
}

// ---- counting -----------------------------------------------------------------------------------
//
// The window opens and closes while the app is quiet (the load generator stopped, every connection
// closed, no database command in flight), so every command counted belongs to a request counted,
// including requests whose connection the load generator cut at the end of its run.

let countingRequests = false;
let countingCommands = false;
let counts;
let cpuStart;
let timeStart;
/** Requests whose connection is still open, and database commands sent but not answered. */
let openRequests = 0;
let pendingCommands = 0;

function resetCounts() {
  counts = { requests: 0, byStatus: {}, cutOff: 0, commands: 0, commandsBy: {} };
  cpuStart = process.cpuUsage();
  timeStart = process.hrtime.bigint();
}
resetCounts();

function countRequests(request, response, next) {
  openRequests++;
  const mine = countingRequests ? counts : undefined;
  if (mine) mine.requests++;
  response.once('close', () => {
    openRequests--;
    if (!mine) return;
    if (response.writableFinished) mine.byStatus[response.statusCode] = (mine.byStatus[response.statusCode] ?? 0) + 1;
    else mine.cutOff++; // the load generator closed the connection at the end of its run
  });
  next();
}

function onCommandStarted(event) {
  pendingCommands++;
  if (!countingCommands) return;
  counts.commands++;
  const target = event.command?.[event.commandName];
  const name = typeof target === 'string' ? `${event.commandName} ${target}` : event.commandName;
  counts.commandsBy[name] = (counts.commandsBy[name] ?? 0) + 1;
}
const onCommandEnded = () => pendingCommands--;

/** Resolves once nothing has been in progress for 100 ms in a row (at most 3 s). */
async function quiescence() {
  let quietSince = Date.now();
  for (const deadline = Date.now() + 3000; Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (openRequests > 0 || pendingCommands > 0 || (redis?.client.commandQueue.length ?? 0) > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= 100) return;
  }
}

// Redis: the server counts the commands. INFO commandstats is read through the case's own client
// (so, on one connection, it sees every command the app sent before it and none sent after), once
// when the window opens and once when it closes; the difference, less the first INFO itself, is
// what the server ran in the window. That count includes the commands a Lua script runs
// (redis.call): an EVALSHA of a script that calls HGETALL and HSET counts 3. The commands the server
// received from clients (one round trip each, as neither limiter pipelines) are its script runs
// (EVALSHA, EVAL) plus the other commands the app sent outside scripts, which the client tallies as it
// sends them (none in the windows of these cases); the rest ran inside scripts. The tally, by
// command and script, also tells a decision's commands from Rampart's ban and list polls, which
// commandstats cannot.

/** The commands that run a script: each is one command received, whatever the script calls. */
const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro']);

/** A connected ioredis client whose commands are tallied while `counting`. */
async function connectRedis() {
  const { Redis } = await import('ioredis');
  const client = new Redis(redisUrl);
  await client.ping();
  const state = {
    client,
    counting: false,
    /** Commands sent in the window, by label: the command's name, and the script's for EVALSHA and EVAL. */
    tally: {},
    /** Of those: commands that run a script, the others, and those not of a decision (Rampart's polls). */
    scriptsSent: 0,
    plainSent: 0,
    background: 0,
    /** sha → script name, for the labels. */
    scriptNames: new Map(),
    /** The shas of a decision's scripts; undefined: every command is a decision's. */
    decisionShas: undefined,
    /** The server's counts when the window opened. */
    before: undefined,
    async close() {
      // Leave nothing behind on the server (REDIS_URL may be a shared one).
      await deleteKeys(client, redisPrefix);
      await client.quit();
    },
  };
  // Every command goes through sendCommand: scripts' EVALSHA, and their EVAL after a NOSCRIPT, too.
  // The same small wrapper runs for both limiters.
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    if (state.counting) tallyRedis(state, command);
    return send(command, stream);
  };
  return state;
}

function tallyRedis(state, command) {
  const { name } = command;
  let label = name;
  let decision = state.decisionShas === undefined;
  if (name === 'evalsha' || name === 'eval') {
    const sha = name === 'evalsha' ? String(command.args[0]) : createHash('sha1').update(String(command.args[0])).digest('hex');
    label = `${name} ${state.scriptNames.get(sha) ?? `script ${sha.slice(0, 8)}`}`;
    decision ||= state.decisionShas.has(sha);
    state.scriptsSent++;
  } else state.plainSent++;
  if (!decision) state.background++;
  state.tally[label] = (state.tally[label] ?? 0) + 1;
}

/** The server's calls per command since it started (`cmdstat_<name>:calls=N,...`). */
async function commandStats(client) {
  const text = await client.info('commandstats');
  const calls = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

/** Opens the Redis window: the server's counts, and the client's tally from then on. */
async function openRedisWindow() {
  // ioredis writes the INFO in this call, synchronously: the tally starts just after it.
  const reading = commandStats(redis.client);
  Object.assign(redis, { tally: {}, scriptsSent: 0, plainSent: 0, background: 0, counting: true });
  redis.before = await reading;
}

/** Closes the Redis window: what the server ran and received since it opened, beside the client's tally. */
async function closeRedisWindow() {
  redis.counting = false;
  const after = await commandStats(redis.client);
  const commandsBy = {};
  for (const [name, calls] of Object.entries(after)) {
    // The INFO that opened the window is counted by the server in it; this one is not (yet).
    const n = calls - (redis.before[name] ?? 0) - (name === 'info' ? 1 : 0);
    if (n > 0) commandsBy[name] = n;
  }
  const scriptRuns = Object.entries(commandsBy).reduce((sum, [name, n]) => sum + (SCRIPT_COMMANDS.has(name) ? n : 0), 0);
  const run = Object.values(commandsBy).reduce((sum, n) => sum + n, 0);
  const received = scriptRuns + redis.plainSent;
  return {
    /** Commands received from clients (round trips). */
    received,
    /** Every command run, those of scripts included, and by name. */
    run,
    commandsBy,
    /** Of the commands received, those not of a decision (Rampart's ban and list polls). */
    background: redis.background,
    /** What this client sent, by command and script. */
    sentBy: redis.tally,
    /** Scripts run for other clients than this app's (0 on a server of the benchmark's own). */
    otherClients: scriptRuns - redis.scriptsSent,
  };
}

/** Deletes every key starting with `prefix` (SCAN, then UNLINK). */
async function deleteKeys(client, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  const { imports, providers, close } = await caseImports();
  class AppModule {}
  Module({ imports, controllers: [AppController], providers })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.use(countRequests);
  await app.listen(0, '127.0.0.1');
  for (const connection of monitored) {
    const client = connection.getClient();
    client.on('commandStarted', onCommandStarted);
    client.on('commandSucceeded', onCommandEnded);
    client.on('commandFailed', onCommandEnded);
  }

  process.on('message', async (message) => {
    if (message.type === 'start') {
      await quiescence();
      if (redis) await openRedisWindow();
      resetCounts();
      countingRequests = countingCommands = true;
      process.send({ type: 'started' });
    } else if (message.type === 'stop') {
      // Sent once the load generator is done: no request arrives any more.
      countingRequests = false;
      const cpu = process.cpuUsage(cpuStart);
      const elapsedUs = Number(process.hrtime.bigint() - timeStart) / 1000;
      await quiescence();
      const redisCounts = redis ? await closeRedisWindow() : undefined;
      countingCommands = false;
      process.send({ type: 'counts', counts: { ...counts, ...(redisCounts ? { redis: redisCounts } : {}), cpuUs: cpu.user + cpu.system, elapsedUs } });
    } else if (message.type === 'close') {
      try {
        // Leave nothing behind on the database server (MONGO_URL may be a real one).
        if (monitored.length > 0) await monitored[0].db.dropDatabase();
        await app.close();
        await close?.();
      } catch (error) {
        console.error(`bench server (${caseId}): error while closing (ignored): ${error instanceof Error ? error.message : error}`);
      }
      process.disconnect();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: app.getHttpServer().address().port });
}

process.on('disconnect', () => process.exit(0)); // the parent went away
main().catch((error) => {
  console.error(`bench server (${caseId}) failed:`, error);
  process.exit(1);
});
