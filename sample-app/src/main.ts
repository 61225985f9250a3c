import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module.js';
import { settings } from './config.js';

async function bootstrap(): Promise<void> {
  // Errors and warnings only: the single "listening" line below is the start-up log.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ['error', 'warn'] });
  // On SIGINT/SIGTERM: stop accepting connections, run shutdown hooks, then exit.
  app.enableShutdownHooks();
  await app.listen(settings.port);
  // With PORT=0 the system picks the port: report the one actually bound.
  const { port } = app.getHttpServer().address() as AddressInfo;
  const per = (limit: number, windowMs: number) =>
    `${limit} per ${windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`}`;
  console.log(
    `nest-rampart sample app listening on http://127.0.0.1:${port} ` +
      `(default ${per(settings.defaultLimit, settings.defaultWindowMs)}, login ${per(settings.loginLimit, settings.loginWindowMs)})`,
  );
}

bootstrap().catch((error: unknown) => {
  console.error('sample-app: failed to start:', error);
  process.exit(1);
});
