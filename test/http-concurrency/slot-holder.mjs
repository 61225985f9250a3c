// An instance of an HTTP app that takes concurrency slots and never gives them back: its `slow`
// route never answers. The MongoDB spec of HTTP concurrency limits starts it as a process of its
// own, sends it requests, and kills it (SIGKILL) to show that a dead instance's leases lapse after
// leaseMs.
//
// Environment: RAMPART_DIST (the built package), ADAPTER (express or fastify), MONGO_URL and DB_NAME
// (the storage), CLOCK_MS (the instance's clock, which stands still), LEASE_MS. Prints `ready <port>`
// once it listens.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.RAMPART_DIST;
const { ConcurrencyLimit, RateLimitModule } = await import(pathToFileURL(join(dist, 'index.js')).href);
const { mongoStorage } = await import(pathToFileURL(join(dist, 'storage', 'mongo', 'index.js')).href);

const clock = { now: () => Number(process.env.CLOCK_MS) };

// The same route key as the spec's own JobsController.slow, so that both count one pool.
class JobsController {
  slow() {
    return new Promise(() => undefined);
  }
}
const slow = Object.getOwnPropertyDescriptor(JobsController.prototype, 'slow');
for (const decorate of [Get('slow'), ConcurrencyLimit(2)]) decorate(JobsController.prototype, 'slow', slow);
Object.defineProperty(JobsController.prototype, 'slow', slow);
Controller()(JobsController);

class AppModule {}
Module({
  imports: [
    RateLimitModule.forRoot({
      clock,
      leaseMs: Number(process.env.LEASE_MS),
      storage: mongoStorage({ uri: process.env.MONGO_URL, connectOptions: { dbName: process.env.DB_NAME }, sweepIntervalMs: false, clock }),
      logging: false,
    }),
  ],
  controllers: [JobsController],
})(AppModule);

const app =
  process.env.ADAPTER === 'fastify'
    ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false })
    : await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
process.stdout.write(`ready ${app.getHttpServer().address().port}\n`);
