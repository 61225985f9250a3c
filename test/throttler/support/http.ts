import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { AdapterName } from '../../support/http-app.js';

export { ADAPTERS, type AdapterName } from '../../support/http-app.js';

export interface RunningApp {
  readonly app: INestApplication;
  http(): ReturnType<typeof request>;
  /** Closes the app once; later calls wait for the same close. */
  close(): Promise<void>;
}

/** Compiles `metadata` into an initialised app on `adapter`; `trustProxy` trusts X-Forwarded-For. */
export async function startApp(adapter: AdapterName, metadata: ModuleMetadata, options: { trustProxy?: boolean } = {}): Promise<RunningApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  let app: INestApplication;
  if (adapter === 'fastify') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ trustProxy: options.trustProxy ?? false }), {
      logger: false,
    });
  } else {
    const express = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    if (options.trustProxy) express.set('trust proxy', true);
    app = express;
  }
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  let closing: Promise<void> | undefined;
  return { app, http: () => request(app.getHttpServer()), close: () => (closing ??= app.close()) };
}

/** The rate-limit headers of a response (`x-ratelimit-*`, `retry-after*`), by lower-case name. */
export function limitHeaders(res: { headers: Record<string, unknown> }): Record<string, unknown> {
  return Object.fromEntries(Object.entries(res.headers).filter(([name]) => name.startsWith('x-ratelimit') || name.startsWith('retry-after')));
}
