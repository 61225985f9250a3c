// An instance of a microservice app that takes concurrency slots and never gives them back: its
// `slow` handler never ends. The MongoDB concurrency spec starts it as a process of its own, makes
// calls to it, and kills it (SIGKILL) to show that a dead instance's leases lapse after leaseMs.
//
// Environment: RAMPART_DIST (the built package), MONGO_URL and DB_NAME (the storage), CLOCK_MS (the
// instance's clock, which stands still), LEASE_MS. Prints `ready <port>` once it listens.
import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Transport } from '@nestjs/microservices';
import { Module } from '@nestjs/common';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.RAMPART_DIST;
const { ConcurrencyLimit, RateLimitModule, SkipThrottle } = await import(pathToFileURL(join(dist, 'index.js')).href);
const { mongoStorage } = await import(pathToFileURL(join(dist, 'storage', 'mongo', 'index.js')).href);

const clock = { now: () => Number(process.env.CLOCK_MS) };

// The same route key as the spec's own TcpController.slow, so that both count one pool.
class TcpController {
  slow() {
    return new Promise(() => undefined);
  }
}
const slow = Object.getOwnPropertyDescriptor(TcpController.prototype, 'slow');
for (const decorate of [MessagePattern('slow'), ConcurrencyLimit(2), SkipThrottle()]) decorate(TcpController.prototype, 'slow', slow);
Object.defineProperty(TcpController.prototype, 'slow', slow);
Controller()(TcpController);

class AppModule {}
Module({
  imports: [
    RateLimitModule.forRoot({
      clock,
      leaseMs: Number(process.env.LEASE_MS),
      storage: mongoStorage({ uri: process.env.MONGO_URL, connectOptions: { dbName: process.env.DB_NAME }, sweepIntervalMs: false, clock }),
      logger: { log() {}, warn() {}, error() {} },
    }),
  ],
  controllers: [TcpController],
})(AppModule);

const app = await NestFactory.createMicroservice(AppModule, { transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 }, logger: false });
await app.listen();
console.log(`ready ${app.unwrap().address().port}`);
