import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { WsAdapter } from '@nestjs/platform-ws';
import { DEFAULT_ESCALATION_POLICY } from 'nest-rampart';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module.js';
import { settings, type Settings } from './config.js';
import { startMicroservice } from './microservice.js';
import { describeStorage } from './storage.js';

/** `4 s`, `15 min`, `24 h`, `1500 ms`. */
function duration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return `${ms} ms`;
}

function describeEscalation({ escalation }: Settings): string {
  const p = { ...DEFAULT_ESCALATION_POLICY, ...escalation };
  const ban = p.permanentBanAfter > 0 ? `permanent ban after ${p.permanentBanAfter} violations within ${duration(p.permanentBanWindowMs)}` : 'no permanent ban';
  return (
    `escalation: block after ${p.blockAfterViolations} violations for ${duration(p.blockDurationMs)} ` +
    `(x${p.blockMultiplier} per repeat, at most ${duration(p.maxBlockDurationMs)}); ${ban}`
  );
}

async function bootstrap(): Promise<void> {
  // Errors and warnings only: the lines below are the start-up log.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ['error', 'warn'] });
  // On SIGINT/SIGTERM: stop accepting connections, run shutdown hooks, then exit.
  // Not SIGHUP: with a configuration file (RAMPART_CONFIG), SIGHUP reloads it instead of stopping the app.
  app.enableShutdownHooks(['SIGINT', 'SIGTERM']);
  // The chat gateway speaks plain WebSocket (the `ws` package).
  app.useWebSocketAdapter(new WsAdapter(app));
  const tcpPort = await startMicroservice(app, settings.tcpPort);
  await app.listen(settings.port);
  console.log(describeStorage(settings));
  console.log(describeEscalation(settings));
  console.log(
    settings.adminApiKey !== undefined
      ? 'admin API: mounted at /rate-limit (Authorization: Bearer <RATE_LIMIT_ADMIN_KEY>)'
      : 'admin API: not mounted (set RATE_LIMIT_ADMIN_KEY, at least 16 characters, to enable it)',
  );
  console.log('websocket: ws://<host>/chat (chat rule: 5 messages per 10 s; at most 5 open connections per client)');
  if (settings.trustedProxies.length > 0) console.log(`trusted proxies: ${settings.trustedProxies.join(', ')} (X-Forwarded-For from them names the client)`);
  console.log(`TCP microservice on 127.0.0.1:${tcpPort}: { cmd: 'sum' } (default rule), { cmd: 'report' } (2 at once per client), 'audit' events`);
  // With PORT=0 the system picks the port: report the one actually bound. Printed last: once it is
  // out, the app is ready.
  const { port } = app.getHttpServer().address() as AddressInfo;
  const per = (limit: number, windowMs: number) => `${limit} per ${windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`}`;
  console.log(
    `nest-rampart sample app listening on http://127.0.0.1:${port} ` +
      `(default ${per(settings.defaultLimit, settings.defaultWindowMs)}, login ${per(settings.loginLimit, settings.loginWindowMs)})`,
  );
}

bootstrap().catch((error: unknown) => {
  console.error('sample-app: failed to start:', error);
  process.exit(1);
});
