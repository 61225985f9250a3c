import type { ExecutionContext } from '@nestjs/common';
import { Rampart } from '../../lib/engine/rampart.js';
import { memoryStorage, RateLimitService } from '../../lib/index.js';
import type { RateLimitModuleOptions } from '../../lib/rate-limit-options.interface.js';
import { downLeases } from '../support/down-leases.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS } from '../support/http-app.js';
import { until } from '../support/until.js';
import { startConcurrencyApp, type Answer, type ConcurrencyApp } from './concurrency.app.js';

const SLOW = 'concurrency:JobsController.slow:127.0.0.1';

describe.each(ADAPTERS)('@ConcurrencyLimit on HTTP routes (%s)', (adapter) => {
  let t: ConcurrencyApp | undefined;
  let rampart: Rampart;

  afterEach(async () => {
    if (t) {
      // Handlers and streams still held end, so that the app closes at once.
      while (t.jobs.gate.waiting > 0) t.jobs.gate.release();
      for (const stream of t.jobs.streams) stream.end();
      await t.close();
    }
    t = undefined;
  });

  const start = async (options: RateLimitModuleOptions = {}) => {
    t = await startConcurrencyApp(adapter, { clock: new FakeClock(), ...options });
    rampart = t.app.get(Rampart);
    return t;
  };
  /** Sends `count` requests to `path`, one after the other once the last one's handler holds it. */
  const inFlight = async (app: ConcurrencyApp, count: number, path = '/slow', headers: Record<string, string> = {}) => {
    const sent = [];
    for (let i = 0; i < count; i++) {
      const before = app.jobs.gate.started;
      sent.push(app.send(path, headers));
      await until(() => app.jobs.gate.started === before + 1);
    }
    return sent;
  };
  const leases = () => rampart.leases.size;

  it('refuses a request past the limit with 429 problem details and a concurrent-requests quota item; an answered request frees its slot', async () => {
    const app = await start();
    const [first, second] = await inFlight(app, 2);
    expect(await rampart.leases.count(SLOW)).toBe(2);
    const refused = await app.get('/slow');
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: "Concurrency limit 'concurrency' reached: at most 2 requests of this client at once. Retry when one has ended.",
      rule: 'concurrency',
      limit: 2,
      retryAfterSeconds: 1,
    });
    expect(refused.headers['retry-after']).toBe('1');
    // The module's rule counted it (it was its third request), then the concurrency limit refused it.
    expect(refused.headers['ratelimit-policy']).toBe('"default";q=100;w=60, "concurrency";q=2;qu="concurrent-requests"');
    expect(refused.headers['ratelimit']).toMatch(/^"default";r=97;t=\d+, "concurrency";r=0$/);
    expect(app.jobs.gate.started).toBe(2);

    app.jobs.gate.release();
    const answered = await first.answer;
    expect(answered).toMatchObject({ status: 200, body: { done: true } });
    // Admitted as the first of two slots: one left.
    expect(answered.headers['ratelimit']).toMatch(/^"default";r=99;t=\d+, "concurrency";r=1$/);
    await until(() => leases() === 1);
    const [third] = await inFlight(app, 1);
    expect(await rampart.leases.count(SLOW)).toBe(2);
    app.jobs.gate.release();
    app.jobs.gate.release();
    expect((await second.answer).status).toBe(200);
    expect((await third.answer).headers['ratelimit']).toMatch(/^"default";r=96;t=\d+, "concurrency";r=0$/);
    await until(() => leases() === 0);
  });

  it('frees the slot of a request whose handler throws (500)', async () => {
    const app = await start();
    const [failing] = await inFlight(app, 2);
    app.jobs.gate.fail();
    expect((await failing.answer).status).toBe(500);
    await until(() => leases() === 1);
    await inFlight(app, 1);
    expect(await rampart.leases.count(SLOW)).toBe(2);
  });

  it('frees the slot of a request a pipe, a later interceptor or an exception filter answers', async () => {
    const app = await start();
    // Each route has one slot: a slot kept by any of these answers would refuse the next request.
    for (let i = 0; i < 2; i++) {
      expect((await app.get('/items/not-a-number')).status).toBe(400);
      expect(await app.get('/teapot')).toMatchObject({ status: 418, text: 'short and stout' });
      expect((await app.get('/guarded', { 'x-password': 'open sesame', 'x-fail': 'interceptor' })).status).toBe(502);
    }
    await until(() => leases() === 0);
    const [held] = await inFlight(app, 1, '/items/7');
    expect((await app.get('/items/8')).status).toBe(429);
    app.jobs.gate.release();
    expect((await held.answer).body).toEqual({ id: 7 });
  });

  it('takes no slot for a request a later guard refuses', async () => {
    const app = await start();
    expect((await app.get('/guarded')).status).toBe(401);
    expect(leases()).toBe(0);
    const [held] = await inFlight(app, 1, '/guarded', { 'x-password': 'open sesame' });
    expect((await app.get('/guarded', { 'x-password': 'open sesame' })).status).toBe(429);
    app.jobs.gate.release();
    expect((await held.answer).text).toBe('in');
  });

  it('holds the slot until a streamed response ends, not when the handler returns', async () => {
    const app = await start();
    const streamed = app.send('/stream');
    await until(() => app.jobs.streams.length === 1);
    await until(() => leases() === 1);
    expect((await app.get('/stream')).status).toBe(429);
    app.jobs.streams[0].end('last part');
    expect((await streamed.answer).text).toBe('first part;last part');
    await until(() => leases() === 0);
    expect(app.jobs.streams).toHaveLength(1);
  });

  it('shares one pool among the routes that name its scope', async () => {
    const app = await start();
    const [held] = await inFlight(app, 1, '/export-a');
    const refused = await app.get('/export-b');
    expect(refused).toMatchObject({ status: 429, body: { rule: 'exports', limit: 1 } });
    expect(refused.headers['ratelimit-policy']).toContain('"exports";q=1;qu="concurrent-requests"');
    app.jobs.gate.release();
    await held.answer;
    await until(() => leases() === 0);
    const [other] = await inFlight(app, 1, '/export-b');
    app.jobs.gate.release();
    expect((await other.answer).text).toBe('b');
  });

  it("counts each client apart by the module's keyResolver, and limits a @SkipThrottle() route all the same", async () => {
    const keyResolver = (context: ExecutionContext) => context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-api-key'];
    const app = await start({ keyResolver });
    await inFlight(app, 2, '/slow', { 'x-api-key': 'alice' });
    expect((await app.get('/slow', { 'x-api-key': 'alice' })).status).toBe(429);
    await inFlight(app, 2, '/slow', { 'x-api-key': 'bob' });
    expect(await rampart.leases.count('concurrency:JobsController.slow:alice')).toBe(2);
    await inFlight(app, 1, '/unthrottled');
    const refused = await app.get('/unthrottled');
    expect(refused.status).toBe(429);
    // Skipped by the rate limits: the concurrency limit's items alone.
    expect(refused.headers['ratelimit-policy']).toBe('"concurrency";q=1;qu="concurrent-requests"');
  });

  it("takes no slot for an allow-listed client, nor for a request the module's skipIf lets through", async () => {
    const app = await start({ skipIf: (context) => context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-skip'] === 'yes' });
    await inFlight(app, 3, '/slow', { 'x-skip': 'yes' });
    expect(leases()).toBe(0);
    await app.app.get(RateLimitService).putAccessEntry('allow', '127.0.0.1', 'ops');
    await inFlight(app, 3);
    expect(leases()).toBe(0);
  });

  it("answers a refusal with the module's denialResponse, told the reason concurrency-limited", async () => {
    const denials: unknown[] = [];
    const app = await start({
      denialResponse: (denial) => {
        denials.push({ reason: denial.reason, status: denial.status, rule: denial.rule, limit: denial.limit, retryAfterSeconds: denial.retryAfterSeconds });
        return { status: 503, body: { busy: denial.rule } };
      },
    });
    await inFlight(app, 2);
    const refused = await app.get('/slow');
    expect(refused).toMatchObject({ status: 503, body: { busy: 'concurrency' } });
    expect(refused.headers['retry-after']).toBe('1');
    expect(denials).toEqual([{ reason: 'concurrency-limited', status: 429, rule: 'concurrency', limit: 2, retryAfterSeconds: 1 }]);
  });

  it("refuses with 503 while the lease store is down (onStoreError 'deny', the default); routes without a limit are untouched", async () => {
    const app = await start({ storage: { ...memoryStorage(), leases: downLeases } });
    const refused: Answer = await app.get('/slow');
    expect(refused).toMatchObject({ status: 503, body: { status: 503, retryAfterSeconds: 1 } });
    expect(refused.headers['retry-after']).toBe('1');
    expect(app.jobs.gate.started).toBe(0);
    const free = await app.get('/free');
    expect(free).toMatchObject({ status: 200, text: 'free' });
    expect(free.headers['ratelimit-policy']).toBe('"default";q=100;w=60');
  });
});
