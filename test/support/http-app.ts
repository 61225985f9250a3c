import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';

export type AdapterName = 'express' | 'fastify';
export const ADAPTERS: AdapterName[] = ['express', 'fastify'];

/** A running Nest app for one e2e scenario, on the chosen HTTP adapter. */
export interface TestApp {
  readonly app: INestApplication;
  /** A supertest agent bound to the app's server. */
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * Compiles `metadata` into an app on `adapter`, initialised and ready for supertest. `prepare` runs
 * before the app is initialised: the place for middlewares and Fastify hooks.
 */
export async function startApp(adapter: AdapterName, metadata: ModuleMetadata, prepare?: (app: INestApplication) => void): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    adapter === 'fastify' ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter()) : moduleRef.createNestApplication({ logger: false });
  if (adapter === 'fastify') app.useLogger(false);
  prepare?.(app);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return {
    app,
    http: () => request(app.getHttpServer()),
    close: () => app.close(),
  };
}
