import { Controller, Get } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Rampart } from '../../lib/engine/rampart.js';
import { ConcurrencyLimit, MemoryLeaseStore, memoryStorage, RateLimitModule, type Lease, type LeaseStore } from '../../lib/index.js';
import { startupProblems } from '../support/config-problems.js';
import { FakeClock } from '../support/fake-clock.js';
import { Gate } from '../support/gate.js';
import { ADAPTERS, startApp } from '../support/http-app.js';
import { until, untilValue } from '../support/until.js';
import { sendTo, startConcurrencyApp, type ConcurrencyApp } from './concurrency.app.js';
import type { AddressInfo, Server } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

const quiet = { log() {}, warn() {}, error() {} };

/** The memory lease store, whose `acquire` answers only once the test lets it (a slow store). */
class HeldLeaseStore extends MemoryLeaseStore implements LeaseStore {
  readonly gate = new Gate();
  override async acquire(key: string, lease: Lease, limit: number, nowMs: number) {
    await this.gate.hold(undefined);
    return super.acquire(key, lease, limit, nowMs);
  }
}

/** Every route of the class limited to one request in flight, but `wide`, whose own limit wins. */
@ConcurrencyLimit(1)
@Controller('reports')
class ReportsController {
  readonly gate = new Gate();
  @Get('daily') daily() {
    return this.gate.hold('daily');
  }
  @ConcurrencyLimit(3) @Get('wide') wide() {
    return this.gate.hold('wide');
  }
}

describe.each(ADAPTERS)('@ConcurrencyLimit on HTTP routes, edge cases (%s)', (adapter) => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it("limits each route of a decorated class on its own; a route's own limit wins", async () => {
    const t = await startApp(adapter, { imports: [RateLimitModule.forRoot({ clock: new FakeClock(), logger: quiet })], controllers: [ReportsController] });
    const { gate } = t.app.get(ReportsController);
    close = async () => {
      while (gate.waiting > 0) gate.release();
      await t.close();
    };
    await (adapter === 'fastify' ? (t.app as NestFastifyApplication).listen(0, '127.0.0.1') : t.app.listen(0, '127.0.0.1'));
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    sendTo(port, '/reports/daily');
    await until(() => gate.started === 1);
    expect((await sendTo(port, '/reports/daily').answer).body).toMatchObject({ status: 429, limit: 1 });
    for (let i = 0; i < 3; i++) {
      sendTo(port, '/reports/wide');
      await until(() => gate.started === 2 + i);
    }
    expect((await sendTo(port, '/reports/wide').answer).body).toMatchObject({ status: 429, limit: 3 });
  });

  it('gives back at once the slot of a request whose client left while the slot was being taken, and does not handle it', async () => {
    const leases = new HeldLeaseStore();
    const app: ConcurrencyApp = await startConcurrencyApp(adapter, { clock: new FakeClock(), storage: { ...memoryStorage(), leases } });
    close = async () => {
      while (leases.gate.waiting > 0) leases.gate.release();
      while (app.jobs.gate.waiting > 0) app.jobs.gate.release();
      await app.close();
    };
    const rampart = app.app.get(Rampart);
    const leaving = app.send('/slow');
    await until(() => leases.gate.started === 1);
    leaving.abort();
    // The server sees the connection close before the store answers.
    const server = app.app.getHttpServer() as Server;
    await untilValue(() => new Promise<number>((resolve) => server.getConnections((_error, count) => resolve(count))), 0);
    leases.gate.release();
    await until(() => leases.gate.finished === 1);
    await until(() => rampart.leases.size === 0);
    expect(await leases.count('concurrency:JobsController.slow:127.0.0.1', Date.now())).toBe(0);
    expect(app.jobs.gate.started).toBe(0);
  });
});

describe('@ConcurrencyLimit on HTTP routes, at startup', () => {
  it('stops the app with every problem listed: a limit that is no positive integer, a decorator on a gateway handler or on no route', async () => {
    @Controller()
    class BrokenController {
      @ConcurrencyLimit(Number.NaN) @Get('nan') nan() {}
      @ConcurrencyLimit(Number.POSITIVE_INFINITY) @Get('infinite') infinite() {}
      @ConcurrencyLimit(-1) @Get('negative') negative() {}
      @ConcurrencyLimit(2.5) @Get('fraction') fraction() {}
      @ConcurrencyLimit(2) helper() {}
    }
    @WebSocketGateway()
    class ChatGateway {
      @ConcurrencyLimit(2) @SubscribeMessage('say') say() {}
    }
    const problems = await startupProblems({
      imports: [RateLimitModule.forRoot({ logger: quiet })],
      controllers: [BrokenController],
      providers: [ChatGateway],
    });
    const neither = (route: string) =>
      `@ConcurrencyLimit on ${route}: concurrency limits apply to HTTP routes (@Get, @Post...) and microservice handlers (@MessagePattern, @EventPattern, @GrpcMethod, @GrpcStreamMethod), and ${route} is neither. Remove the decorator.`;
    expect(problems).toEqual([
      '@ConcurrencyLimit on BrokenController.nan limit must be a positive integer, got NaN.',
      '@ConcurrencyLimit on BrokenController.infinite limit must be a positive integer, got Infinity.',
      '@ConcurrencyLimit on BrokenController.negative limit must be a positive integer, got -1.',
      '@ConcurrencyLimit on BrokenController.fraction limit must be a positive integer, got 2.5.',
      neither('BrokenController.helper'),
      neither('ChatGateway.say'),
    ]);
  });
});
