// One benchmark case's server, run in a child process of bench/http.mjs so that no two cases share a
// heap or JIT state. The same Nest app (Express, one controller, `GET /` returning a small JSON) is
// built for every case; only the rate limiting differs. Clients are told apart by the x-client-id
// header in every limiter.
//
//   BENCH_CASE=<case id> [MONGO_URL=... BENCH_DB=...] node bench/http-server.mjs   (with an IPC channel)
//
// Protocol over IPC: the child sends { type: 'ready', port }; the parent sends { type: 'start' } and
// { type: 'stop' } around the measured window (the child answers 'stop' with what it counted there:
// requests by status, database commands by name and collection, CPU time) and { type: 'close' }.
import 'reflect-metadata';
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

/** Mongoose connections whose driver commands are counted. */
const monitored = [];

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
      return {
        imports: [
          RateLimitModule.forRoot({
            rules: [{ limit: NEVER_DENY, windowMs: WINDOW_MS }],
            escalation: false,
            keyResolver: (c) => clientKey(c.switchToHttp().getRequest()),
          }),
        ],
        providers: [],
      };
    case 'rlf-mongo':
    case 'rlf-mongo-blocked': {
      const connection = mongoose.createConnection(mongoUrl, { dbName, monitorCommands: true });
      await connection.asPromise();
      monitored.push(connection);
      const blocked = caseId === 'rlf-mongo-blocked';
      const limiter = new RateLimiterMongo({
        storeClient: connection,
        tableName: 'rlf_rate_limits',
        points: blocked ? BLOCKED_LIMIT : NEVER_DENY,
        duration: WINDOW_MS / 1000,
        ...(blocked ? { blockDuration: BLOCK_MS / 1000 } : {}),
      });
      await limiter.createIndexes();
      return { imports: [], providers: [{ provide: APP_GUARD, useValue: new RateLimiterFlexibleGuard(limiter) }], close: () => connection.close() };
    }
    case 'rampart-mongo':
    case 'rampart-mongo-blocked': {
      const storage = mongoStorage({ uri: mongoUrl, connectOptions: { dbName, monitorCommands: true } });
      monitored.push(storage.connection);
      const blocked = caseId === 'rampart-mongo-blocked';
      const rule = blocked ? { limit: BLOCKED_LIMIT, windowMs: WINDOW_MS, blockDurationMs: BLOCK_MS } : { limit: NEVER_DENY, windowMs: WINDOW_MS };
      return {
        imports: [RateLimitModule.forRoot({ rules: [rule], escalation: false, storage, keyResolver: (c) => clientKey(c.switchToHttp().getRequest()) })],
        providers: [],
      };
    }
    case 'rampart-mongo-over-limit':
    case 'rampart-mongo-over-limit-tb': {
      // One request per window and no rule block: every later request is denied by the algorithm.
      const storage = mongoStorage({ uri: mongoUrl, connectOptions: { dbName, monitorCommands: true } });
      monitored.push(storage.connection);
      const algorithm = caseId === 'rampart-mongo-over-limit' ? 'sliding-window' : 'token-bucket';
      const rule = { limit: BLOCKED_LIMIT, windowMs: WINDOW_MS, algorithm };
      return {
        imports: [RateLimitModule.forRoot({ rules: [rule], escalation: false, storage, keyResolver: (c) => clientKey(c.switchToHttp().getRequest()) })],
        providers: [],
      };
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
    if (openRequests > 0 || pendingCommands > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= 100) return;
  }
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
      resetCounts();
      countingRequests = countingCommands = true;
      process.send({ type: 'started' });
    } else if (message.type === 'stop') {
      // Sent once the load generator is done: no request arrives any more.
      countingRequests = false;
      const cpu = process.cpuUsage(cpuStart);
      const elapsedUs = Number(process.hrtime.bigint() - timeStart) / 1000;
      await quiescence();
      countingCommands = false;
      process.send({ type: 'counts', counts: { ...counts, cpuUs: cpu.user + cpu.system, elapsedUs } });
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
