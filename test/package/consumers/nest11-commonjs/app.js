// A NestJS 11 app in CommonJS on Express, as `tsc --module commonjs` would emit it: nest-rampart (an
// ES module package) is loaded with require(). STORAGE=mongo keeps Rampart's state in MongoDB through
// the app's Mongoose 8 connection; otherwise in memory. Prints one JSON line per fact the test reads:
// the port once listening, then each Rampart event received through @nestjs/event-emitter.
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { EventEmitterModule, OnEvent } = require('@nestjs/event-emitter');
const { getConnectionToken, MongooseModule } = require('@nestjs/mongoose');
const { DocumentBuilder, SwaggerModule } = require('@nestjs/swagger');
const { RateLimitModule, Throttle } = require('nest-rampart');

const print = (fact) => process.stdout.write(`${JSON.stringify(fact)}\n`);
const decorate = (decorators, target, key) => Reflect.decorate(decorators, target, key, Object.getOwnPropertyDescriptor(target, key));

class AppController {
  limited() {
    return { ok: true };
  }
}
decorate([Get('limited'), Throttle({ name: 'limited', limit: 3, windowMs: 60_000 })], AppController.prototype, 'limited');
Reflect.decorate([Controller()], AppController);

class RampartEvents {
  onBan(event) {
    print({ event: 'rampart.ban', target: event.target, source: event.source });
  }
}
decorate([OnEvent('rampart.ban')], RampartEvents.prototype, 'onBan');

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
          useFactory: (connection) => {
            const { mongoStorage } = require('nest-rampart/mongo');
            return { ...common, storage: mongoStorage({ connection }), requireStore: true };
          },
        }),
      ]
    : [RateLimitModule.forRoot({ ...common, admin: {} })];

class AppModule {}
Reflect.decorate([Module({ imports: [EventEmitterModule.forRoot(), ...rampart], controllers: [AppController], providers: [RampartEvents] })], AppModule);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, new DocumentBuilder().build()));
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  print({ port: app.getHttpServer().address().port });
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
