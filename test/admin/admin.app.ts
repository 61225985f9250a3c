import { Controller, Get, Injectable, type CanActivate, type ExecutionContext, type ModuleMetadata, type Provider, type Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RateLimitModule, type RateLimitModuleOptions } from '../../lib/index.js';
import type { AdminRequest, RateLimitAdminOptions } from '../../lib/admin/admin-options.interface.js';
import { memoryStorage, type MemoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import type { AdapterName, TestApp } from '../support/http-app.js';

/** The admin API key of these scenarios. */
export const ADMIN_KEY = 'admin-key-for-tests-0123456789';
/** A second key, accepted too (rotation). */
export const OTHER_ADMIN_KEY = 'rotated-admin-key-abcdefghijkl';
export const BEARER = `Bearer ${ADMIN_KEY}`;

@Controller()
export class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

/** Lets a request in when it carries `x-operator: <id>`, as `request.user = { id }`. */
@Injectable()
export class OperatorHeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; user?: { id: string } }>();
    const operator = request.headers['x-operator'];
    if (!operator) return false;
    request.user = { id: operator };
    return true;
  }
}

/** `admin.authorize` for OperatorHeaderGuard: the operator is whoever it set as `request.user`. */
export const isOperator = (request: AdminRequest): boolean => typeof request.user?.id === 'string';

export interface AdminScenario {
  readonly options?: RateLimitModuleOptions;
  /** `null`: admin not mounted. */
  readonly admin?: RateLimitAdminOptions | null;
  readonly controllers?: Type<unknown>[];
  /** The app's own providers (an APP_GUARD that authenticates...). */
  readonly providers?: Provider[];
  /** Express only: `'extended'` parses `a[b]=c` into objects, as many apps configure. */
  readonly expressQueryParser?: 'simple' | 'extended';
  /** Fastify only: the adapter's options (`maxParamLength`...). */
  readonly fastifyOptions?: ConstructorParameters<typeof FastifyAdapter>[0];
  /** The app's global route prefix (`app.setGlobalPrefix`). */
  readonly globalPrefix?: string;
}

export interface AdminTestApp extends TestApp {
  readonly clock: FakeClock;
  readonly storage: MemoryStorage;
}

/**
 * One app per scenario: a `/ping` route limited to 100 requests a minute, clients told apart by
 * X-Forwarded-For from loopback, the admin API at `/rate-limit` behind ADMIN_KEY and OTHER_ADMIN_KEY.
 */
export async function startAdminApp(adapter: AdapterName, scenario: AdminScenario = {}): Promise<AdminTestApp> {
  const clock = new FakeClock();
  const storage = memoryStorage();
  const admin = scenario.admin === undefined ? {} : scenario.admin;
  const metadata: ModuleMetadata = {
    imports: [
      RateLimitModule.forRoot({
        rules: [{ limit: 100, windowMs: 60_000, algorithm: 'fixed-window' }],
        clock,
        storage,
        trustProxy: { proxies: ['loopback'] },
        adminApiKey: [ADMIN_KEY, OTHER_ADMIN_KEY],
        ...scenario.options,
        ...(admin ? { admin } : {}),
      }),
    ],
    controllers: [PingController, ...(scenario.controllers ?? [])],
    providers: scenario.providers ?? [],
  };
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(scenario.fastifyOptions), { logger: false })
      : moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
  if (adapter === 'express' && scenario.expressQueryParser) (app as NestExpressApplication).set('query parser', scenario.expressQueryParser);
  if (scenario.globalPrefix) app.setGlobalPrefix(scenario.globalPrefix);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return { app, http: () => request(app.getHttpServer()), close: () => app.close(), clock, storage };
}
