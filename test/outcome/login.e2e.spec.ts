/**
 * Failed logins counted, whatever order the app's auth guard runs in: 100 concurrent attempts with
 * a wrong password, under a failure limit of 5, let exactly 5 reach the credential check, on both
 * HTTP adapters and every placement of the auth guard (nestjs/throttler #522).
 */
import type { ExecutionContext } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';
import { Rampart } from '../../lib/engine/rampart.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { until } from '../support/until.js';
import { Checks, loginApp, PASSWORD, PLACEMENTS } from './login.app.js';

const LIMIT = 5;
const ATTEMPTS = 100;

describe.each(ADAPTERS)('failed logins counted before the credential check (%s)', (adapter) => {
  describe.each(PLACEMENTS)('auth guard placement: %s', (placement) => {
    let t: TestApp;
    const checks = new Checks();
    const clock = new FakeClock();

    beforeAll(async () => {
      const { metadata, prepare } = loginApp(placement, checks, {
        clock,
        rules: [{ name: 'login-failures', limit: LIMIT, windowMs: 900_000, algorithm: 'fixed-window', countIf: 'failed' }],
        keyResolver: (context: ExecutionContext) => context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-client'],
      });
      t = await startApp(adapter, metadata, prepare as never);
      // One listening server for every request (supertest would listen and close around each one).
      await t.app.listen(0, '127.0.0.1');
    });
    afterAll(() => t.close());

    const login = (client: string, password: string) => t.http().post('/login').set('X-Client', client).send({ username: 'alice', password });

    it(`lets exactly ${LIMIT} of ${ATTEMPTS} concurrent wrong passwords reach the check, and counts them`, async () => {
      checks.reached = 0;
      checks.hold();
      const statuses: number[] = [];
      const all = Array.from({ length: ATTEMPTS }, () => login('burst', 'wrong').then((res) => statuses.push(res.status)));
      // Every attempt the limit refuses is answered while the admitted ones are still at the check.
      await until(() => statuses.length === ATTEMPTS - LIMIT, 10_000);
      expect(checks.reached).toBe(LIMIT);
      checks.letGo();
      await Promise.all(all);
      expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT);
      expect(statuses.filter((s) => s === 429)).toHaveLength(ATTEMPTS - LIMIT);
      await t.app.get(Rampart).outcomes.drain();
      // The five failures stay counted: the right password is refused too, unchecked.
      await login('burst', PASSWORD).expect(429);
      expect(checks.reached).toBe(LIMIT);
    });

    it('gives back the units of successful logins, and never lets more than the limit in flight', async () => {
      checks.reached = 0;
      checks.hold();
      const statuses: number[] = [];
      // Two over the limit: a third violation would start the escalation's block.
      const all = Array.from({ length: LIMIT + 2 }, () => login('fine', PASSWORD).then((res) => statuses.push(res.status)));
      await until(() => statuses.length === 2, 10_000);
      expect(statuses).toEqual([429, 429]);
      checks.letGo();
      await Promise.all(all);
      expect(statuses.filter((s) => s === 201)).toHaveLength(LIMIT);
      await t.app.get(Rampart).outcomes.drain();
      // Successes are not counted: the whole limit is there again.
      for (let i = 0; i < LIMIT * 2; i++) await login('fine', PASSWORD).expect(201);
      for (let i = 0; i < LIMIT; i++) await login('fine', 'wrong').expect(401);
      await login('fine', PASSWORD).expect(429);
    });
  });
});

describe.each(ADAPTERS)('a login whose client goes away before the answer (%s)', (adapter) => {
  let t: TestApp;
  const checks = new Checks();

  beforeAll(async () => {
    const { metadata } = loginApp('auth-on-method', checks, {
      clock: new FakeClock(),
      rules: [{ name: 'login-failures', limit: 2, windowMs: 900_000, algorithm: 'fixed-window', countIf: 'failed' }],
    });
    t = await startApp(adapter, metadata);
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  it('stays counted, as an outcome, even with the right password', async () => {
    const server = t.app.getHttpServer() as Server;
    const { port } = server.address() as AddressInfo;
    const sockets: Socket[] = [];
    server.on('connection', (socket: Socket) => sockets.push(socket));
    checks.reached = 0;
    checks.hold();
    const body = JSON.stringify({ password: PASSWORD });
    const aborted = httpRequest({
      port,
      host: '127.0.0.1',
      method: 'POST',
      path: '/login',
      headers: { 'content-type': 'application/json', 'content-length': body.length },
    });
    aborted.on('error', () => undefined);
    aborted.end(body);
    await until(() => checks.reached === 1);
    aborted.destroy();
    // The server has seen the connection close before the credential check answers.
    await until(() => sockets.length === 1 && sockets[0].destroyed);
    checks.letGo();
    await t.app.get(Rampart).outcomes.drain();
    // The aborted attempt kept its unit: one more login fits, the next does not.
    await t.http().post('/login').send({ password: PASSWORD }).expect(201);
    await t.http().post('/login').send({ password: 'wrong' }).expect(401);
    await t.app.get(Rampart).outcomes.drain();
    const refused = await t.http().post('/login').send({ password: PASSWORD }).expect(429);
    // Counted as an outcome too: the limit is filled by counted outcomes, not held by requests in
    // flight (whose refusal would say to come back in a second), so the wait is the window's.
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(1);
  });
});
