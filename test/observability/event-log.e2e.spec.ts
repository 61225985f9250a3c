/**
 * The event log through a real Nest app on Express and Fastify whose logger is Nest's
 * `ConsoleLogger({ json: true })`: one violation (its repeat left out), a block, an operator's ban
 * and unban through the admin API, each printed on stdout as one JSON line with its fields as
 * `params` under the `RateLimit` context.
 */
import { ConsoleLogger, Controller, Get, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RateLimitModule } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, type AdapterName } from '../support/http-app.js';

const T0 = Date.UTC(2030, 0, 1);
const KEY = 'event-log-admin-key-0123456789';
const OFFENDER = '203.0.113.7';
const OTHER = '198.51.100.23';

@Controller()
class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

async function start(adapter: AdapterName): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RateLimitModule.forRoot({
        rules: [{ limit: 1, windowMs: 60_000, algorithm: 'fixed-window' }],
        clock: new FakeClock(T0),
        trustProxy: { proxies: ['loopback'] },
        escalation: { blockAfterViolations: 2, blockDurationMs: 120_000, permanentBanAfter: 3, permanentBanWindowMs: 3_600_000 },
        adminApiKey: KEY,
        admin: {},
      }),
    ],
    controllers: [PingController],
  }).compile();
  const logger = new ConsoleLogger({ json: true });
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  await app.init();
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

describe.each(ADAPTERS)('event log through a Nest app on %s with ConsoleLogger({ json: true })', (adapter) => {
  it('prints a violation, a block, a ban and an unban as JSON lines with their fields', async () => {
    const written: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    let app: INestApplication | undefined;
    try {
      app = await start(adapter);
      const http = () => request(app!.getHttpServer());
      const admin = (r: request.Test) => r.set('Authorization', `Bearer ${KEY}`);
      await http().get('/ping').set('X-Forwarded-For', OFFENDER).expect(200);
      await http().get('/ping').set('X-Forwarded-For', OFFENDER).expect(429); // a violation
      await http().get('/ping').set('X-Forwarded-For', OFFENDER).expect(429); // the second: left out of the log, and a block
      await http().get('/ping').set('X-Forwarded-For', OFFENDER).expect(429); // the block: no violation
      await admin(http().post('/rate-limit/bans')).send({ key: OTHER, kind: 'permanent', reason: 'scraping' }).expect(201);
      await admin(http().delete('/rate-limit/bans').query({ key: OTHER })).expect(200);
    } finally {
      stdout.mockRestore();
      await app?.close();
    }
    const lines = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line['context'] === 'RateLimit' && line['params'] !== undefined);
    const common = { pid: process.pid, timestamp: expect.any(Number), context: 'RateLimit' };
    const violation = { rule: 'default', route: 'PingController.ping', method: 'GET', limitType: 'http', count: 2, limit: 1 };
    expect(lines).toEqual([
      {
        ...common,
        level: 'warn',
        message: `Rate limit exceeded by ${OFFENDER}: rule 'default' on PingController.ping, 2 of 1`,
        params: { event: 'violation', key: OFFENDER, ...violation },
      },
      {
        ...common,
        level: 'warn',
        message: `${OFFENDER} blocked for 120 s (auto): 2 violations of rate limits (last: 'default')`,
        params: {
          event: 'block',
          key: OFFENDER,
          ...violation,
          durationMs: 120_000,
          until: new Date(T0 + 120_000).toISOString(),
          source: 'auto',
          reason: "2 violations of rate limits (last: 'default')",
          blockCount: 1,
          by: 'rampart',
        },
      },
      {
        ...common,
        level: 'warn',
        message: `${OTHER} banned (admin): scraping`,
        params: { event: 'ban', key: OTHER, durationMs: null, source: 'admin', reason: 'scraping', by: expect.stringMatching(/^api-key:[0-9a-f]{4}$/) },
      },
      {
        ...common,
        level: 'log',
        message: `Ban of ${OTHER} lifted by ${(lines[2]?.['params'] as { by?: string } | undefined)?.by}`,
        params: { event: 'unban', key: OTHER, by: expect.stringMatching(/^api-key:[0-9a-f]{4}$/), lifted: 'ban', clearHistory: false },
      },
    ]);
  });

  it('logs the summary of the violations left out when the app closes', async () => {
    const written: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const app = await start(adapter);
      const http = () => request(app.getHttpServer());
      await http().get('/ping').set('X-Forwarded-For', OTHER).expect(200);
      await http().get('/ping').set('X-Forwarded-For', OTHER).expect(429); // a violation: logged
      await http().get('/ping').set('X-Forwarded-For', OTHER).expect(429); // the second: left out, then a block
      await app.close();
    } finally {
      stdout.mockRestore();
    }
    const params = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as Record<string, unknown>)['params'] as Record<string, unknown> | undefined)
      .filter((p) => p !== undefined);
    expect(params.map((p) => p['event'])).toEqual(['violation', 'block', 'violations_suppressed']);
    expect(params[2]).toEqual(expect.objectContaining({ key: OTHER, suppressed: 1, intervalMs: 60_000, rule: 'default' }));
  });
});
