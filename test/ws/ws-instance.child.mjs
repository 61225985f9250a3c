// One instance of a gateway app in a process of its own, on the built package and a MongoDB storage,
// for tests that kill it without a goodbye. Prints {"port":N} once it listens.
// Environment: MONGO_URL, DB_NAME, CLOCK_MS (a fixed clock), MAX_CONNECTIONS, LEASE_MS.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { RateLimitModule } from '../../dist/index.js';
import { mongoStorage } from '../../dist/storage/mongo/index.js';

class Gateway {
  free(_client, data) {
    return { event: 'free', data };
  }
}
SubscribeMessage('free')(Gateway.prototype, 'free', Object.getOwnPropertyDescriptor(Gateway.prototype, 'free'));
WebSocketGateway()(Gateway);

const nowMs = Number(process.env.CLOCK_MS);
const clock = { now: () => nowMs };
const quiet = { log() {}, warn() {}, error: (m) => process.stderr.write(`${m}\n`) };

class AppModule {}
Module({
  imports: [
    RateLimitModule.forRoot({
      storage: mongoStorage({ uri: process.env.MONGO_URL, connectOptions: { dbName: process.env.DB_NAME }, sweepIntervalMs: false, clock }),
      websockets: { maxConnections: Number(process.env.MAX_CONNECTIONS) },
      leaseMs: Number(process.env.LEASE_MS),
      clock,
      logger: quiet,
    }),
  ],
  providers: [Gateway],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
app.useWebSocketAdapter(new WsAdapter(app));
await app.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ port: app.getHttpServer().address().port })}\n`);
