// An instance of an app that takes concurrency slots and never gives them back: its `slow` handler
// never ends. The MongoDB concurrency specs start it as a process of their own, send it requests or
// calls, and kill it (SIGKILL) to show that a dead instance's leases lapse after leaseMs.
//
// Environment: RAMPART_DIST (the built package), TRANSPORT (tcp: a microservice whose `slow`
// pattern is TcpController.slow; express or fastify: an HTTP app whose GET /slow is
// JobsController.slow, the route keys of the specs' own apps, so that both count one pool),
// MONGO_URL and DB_NAME (the storage), or REDIS_URL and REDIS_PREFIX, CLOCK_MS (the instance's clock, which stands still),
// LEASE_MS. Prints `ready <port>` once it listens.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const { RAMPART_DIST: dist, TRANSPORT: transport } = process.env;
const { ConcurrencyLimit, RateLimitModule, SkipThrottle } = await import(pathToFileURL(join(dist, 'index.js')).href);
/** The storage: Redis when REDIS_PREFIX is set (with REDIS_URL), else MongoDB. */
async function sharedStorage() {
  if (process.env.REDIS_PREFIX) {
    const { redisStorage } = await import(pathToFileURL(join(dist, 'storage', 'redis', 'index.js')).href);
    const { Redis } = await import('ioredis');
    return redisStorage({ client: new Redis(process.env.REDIS_URL), prefix: process.env.REDIS_PREFIX });
  }
  const { mongoStorage } = await import(pathToFileURL(join(dist, 'storage', 'mongo', 'index.js')).href);
  return mongoStorage({ uri: process.env.MONGO_URL, connectOptions: { dbName: process.env.DB_NAME }, sweepIntervalMs: false, clock });
}
const microservices = transport === 'tcp' ? await import('@nestjs/microservices') : undefined;

const clock = { now: () => Number(process.env.CLOCK_MS) };

class HolderController {
  slow() {
    return new Promise(() => undefined);
  }
}
// Named as the spec's own controller: its route key (TcpController.slow, JobsController.slow) is the same.
Object.defineProperty(HolderController, 'name', { value: microservices ? 'TcpController' : 'JobsController' });
const slow = Object.getOwnPropertyDescriptor(HolderController.prototype, 'slow');
const route = microservices ? [microservices.MessagePattern('slow'), SkipThrottle()] : [Get('slow')];
for (const decorate of [...route, ConcurrencyLimit(2)]) decorate(HolderController.prototype, 'slow', slow);
Object.defineProperty(HolderController.prototype, 'slow', slow);
Controller()(HolderController);

class AppModule {}
Module({
  imports: [
    RateLimitModule.forRoot({
      clock,
      leaseMs: Number(process.env.LEASE_MS),
      storage: await sharedStorage(),
      logger: { log() {}, warn() {}, error() {} },
    }),
  ],
  controllers: [HolderController],
})(AppModule);

if (microservices) {
  const options = { transport: microservices.Transport.TCP, options: { host: '127.0.0.1', port: 0 }, logger: false };
  const app = await NestFactory.createMicroservice(AppModule, options);
  await app.listen();
  console.log(`ready ${app.unwrap().address().port}`);
} else {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const app = await NestFactory.create(AppModule, ...(transport === 'fastify' ? [new FastifyAdapter()] : []), { logger: false });
  await app.listen(0, '127.0.0.1');
  console.log(`ready ${app.getHttpServer().address().port}`);
}
