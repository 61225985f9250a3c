// A NestJS 12 app as an ES module on Fastify. STORAGE=mongo keeps Rampart's state in MongoDB through
// the app's Mongoose 9 connection; otherwise in memory. Prints one JSON line with the port once listening.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getConnectionToken, MongooseModule } from '@nestjs/mongoose';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { RateLimitModule, Throttle } from 'nest-rampart';

const print = (fact) => process.stdout.write(`${JSON.stringify(fact)}\n`);
const decorate = (decorators, target, key) => Reflect.decorate(decorators, target, key, Object.getOwnPropertyDescriptor(target, key));

class AppController {
  limited() {
    return { ok: true };
  }
}
decorate([Get('limited'), Throttle({ name: 'limited', limit: 3, windowMs: 60_000 })], AppController.prototype, 'limited');
Reflect.decorate([Controller()], AppController);

const common = {
  rules: [],
  trustProxy: { proxies: ['loopback'] },
  adminApiKey: process.env.ADMIN_KEY,
};
const rampart =
  process.env.STORAGE === 'mongo'
    ? [
        MongooseModule.forRoot(process.env.MONGO_URL, { dbName: process.env.MONGO_DB }),
        RateLimitModule.forRootAsync({
          admin: {},
          inject: [getConnectionToken()],
          useFactory: async (connection) => {
            const { mongoStorage } = await import('nest-rampart/mongo');
            return { ...common, storage: mongoStorage({ connection }), requireStore: true };
          },
        }),
      ]
    : [RateLimitModule.forRoot({ ...common, admin: {} })];

class AppModule {}
Reflect.decorate([Module({ imports: rampart, controllers: [AppController] })], AppModule);

const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
print({ port: app.getHttpServer().address().port });
