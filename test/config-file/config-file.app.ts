import { Controller, Get, Post, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { RateLimitModule, SkipThrottle, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';
import type { ExecutionContext } from '@nestjs/common';
import type { AdapterName } from '../support/http-app.js';
import { FakeClock } from '../support/fake-clock.js';

export const ADMIN_KEY = 'config-admin-key-0123456789abcdef';

@Controller()
export class TownsController {
  @Get('towns') towns() {
    return 'towns';
  }
  @Get('towns/:id') town() {
    return 'town';
  }
  @Post('towns') create() {
    return 'created';
  }
  @Get('user/:id') user() {
    return 'user';
  }
  @Get('user/:id/posts') posts() {
    return 'posts';
  }
  @Throttle({ name: 'forests-code', limit: 50, windowMs: 60_000 }) @Get('forests') forests() {
    return 'forests';
  }
  @Get('health') health() {
    return 'ok';
  }
  @Get('healthz') healthz() {
    return 'ok';
  }
  @SkipThrottle() @Get('skipped') skipped() {
    return 'skipped';
  }
  @Get('other') other() {
    return 'other';
  }
}

/** A folder of its own for one scenario's configuration file. */
export function configFolder(): { path: string; write(text: string): void } {
  const path = join(mkdtempSync(join(tmpdir(), 'rampart-cf-')), 'rampart.yaml');
  return { path, write: (text: string) => writeFileSync(path, text) };
}

export interface ConfigApp {
  readonly app: INestApplication;
  readonly clock: FakeClock;
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * An app configured by `options` (its `configFile` above all), clients told apart by
 * X-Forwarded-For from loopback and grouped by `X-Group`, the admin API behind ADMIN_KEY.
 */
export async function startConfigApp(adapter: AdapterName, options: RateLimitModuleOptions, clock = new FakeClock()): Promise<ConfigApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RateLimitModule.forRoot({
        clock,
        trustProxy: { proxies: ['loopback'] },
        adminApiKey: ADMIN_KEY,
        env: {},
        logging: false,
        groupResolver: (context: ExecutionContext) => context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-group'],
        ...options,
        admin: {},
      }),
    ],
    controllers: [TownsController],
  }).compile();
  const app =
    adapter === 'fastify' ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter()) : moduleRef.createNestApplication({ logger: false });
  if (adapter === 'fastify') app.useLogger(false);
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return { app, clock, http: () => request(app.getHttpServer()), close: () => app.close() };
}

/** The statuses of `n` GET requests to `path` from `client`, one after the other. */
export async function statuses(
  t: ConfigApp,
  n: number,
  path: string,
  client: string,
  headers: Record<string, string> = {},
  method: 'get' | 'post' = 'get',
): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < n; i++)
    seen.push(
      (
        await t
          .http()
          [method](path)
          .set({ 'X-Forwarded-For': client, ...headers })
      ).status,
    );
  return seen;
}
