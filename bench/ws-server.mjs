// One case of bench/ws.mjs in a child process: the same gateway (an `echo` handler) on the `ws` or
// socket.io adapter, with no limiter or with Rampart's module (memory store, a rule that never
// denies: every message is counted, none refused). Sends { type: 'ready', port } over IPC, and
// answers { type: 'cpu' } with the CPU time used so far.
//
//   BENCH_CASE=ws-none|ws-emptyguard|ws-rampart|io-none|io-rampart node bench/ws-server.mjs   (with an IPC channel)
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { RateLimitModule } from 'nest-rampart';

const caseId = process.env.BENCH_CASE ?? '';
const [adapter, limiter] = caseId.split('-');

class EchoGateway {
  echo(_client, data) {
    return { event: 'echo', data };
  }
}
SubscribeMessage('echo')(EchoGateway.prototype, 'echo', Object.getOwnPropertyDescriptor(EchoGateway.prototype, 'echo'));
WebSocketGateway()(EchoGateway);

/** The reference case: Nest's guard machinery with a global guard that does nothing. */
class EmptyGuard {
  canActivate() {
    return true;
  }
}

class AppModule {}
const quiet = { log() {}, warn() {}, error: (m) => process.stderr.write(`${m}\n`) };
Module({
  imports: limiter === 'rampart' ? [RateLimitModule.forRoot({ rules: [{ limit: 1e9, windowMs: 60_000 }], logger: quiet })] : [],
  providers: [EchoGateway, ...(limiter === 'emptyguard' ? [{ provide: APP_GUARD, useClass: EmptyGuard }] : [])],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
app.useWebSocketAdapter(adapter === 'io' ? new IoAdapter(app) : new WsAdapter(app));
await app.listen(0, '127.0.0.1');
process.send({ type: 'ready', port: app.getHttpServer().address().port });
process.on('message', async (message) => {
  if (message?.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send({ type: 'cpu', cpuUs: user + system });
  } else if (message?.type === 'close') {
    await app.close();
    process.exit(0);
  }
});
