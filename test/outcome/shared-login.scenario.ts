/**
 * Failed logins counted by two app instances (Express and Fastify) sharing one store (memory,
 * MongoDB, Redis): 100 concurrent wrong passwords spread over both, under a failure limit of 5, let
 * exactly 5 reach the credential checks of the two, and the next attempt starts the rule's block;
 * successful logins give their units back through the store; a burst of slow successful logins
 * beyond the limit is refused in part, but records no violation and blocks nobody.
 */
import type { ExecutionContext } from '@nestjs/common';
import type { IncomingMessage, Server } from 'node:http';
import { Rampart } from '../../lib/engine/rampart.js';
import type { RateLimitStore } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { startApp, type AdapterName, type TestApp } from '../support/http-app.js';
import { until } from '../support/until.js';
import { Checks, loginApp, PASSWORD } from './login.app.js';

const LIMIT = 5;
const ATTEMPTS = 100;
const BLOCK_MS = 3_600_000;

/**
 * The scenario, on instances each given a store of their own by `connect` (closed by what it
 * returns). The burst of slow successful logins is checked without the rule's `waitMs`, and again
 * on a route whose rule waits (`POST /login-waiting`): across instances, a waiting request is woken
 * by the requests of its own instance as they settle, and looks again at the store otherwise.
 */
export function sharedLoginScenario(connect: () => Promise<{ store: RateLimitStore; close(): Promise<void> }>): void {
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 1));
  const checks = new Checks();
  const instances: { t: TestApp; close(): Promise<void> }[] = [];
  /** The client keys of the violations either instance recorded. */
  const violations: string[] = [];

  beforeAll(async () => {
    for (const adapter of ['express', 'fastify'] as AdapterName[]) {
      const { store, close } = await connect();
      const { metadata } = loginApp('app-guard-first', checks, {
        store,
        clock,
        storeTimeoutMs: 10_000,
        rules: [{ name: 'login-failures', limit: LIMIT, windowMs: 900_000, algorithm: 'fixed-window', countIf: 'failed', blockDurationMs: BLOCK_MS }],
        events: { onViolation: (event) => void violations.push(event.key) },
        keyResolver: (context: ExecutionContext) => context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-client'],
      });
      const t = await startApp(adapter, metadata);
      await t.app.listen(0, '127.0.0.1');
      instances.push({ t, close });
    }
  });
  afterAll(async () => {
    for (const { t, close } of instances) {
      await t.close();
      await close();
    }
  });

  const login = (i: number, client: string, password: string) => instances[i % 2].t.http().post('/login').set('X-Client', client).send({ password });
  const drained = () => Promise.all(instances.map(({ t }) => t.app.get(Rampart).outcomes.drain()));

  it(`lets exactly ${LIMIT} of ${ATTEMPTS} concurrent wrong passwords reach the checks of both instances`, async () => {
    checks.reached = 0;
    checks.hold();
    const statuses: number[] = [];
    const all = Array.from({ length: ATTEMPTS }, (_, i) => login(i, 'burst', 'wrong').then((res) => statuses.push(res.status)));
    await until(() => statuses.length === ATTEMPTS - LIMIT, 20_000);
    expect(checks.reached).toBe(LIMIT);
    checks.letGo();
    await Promise.all(all);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT);
    // Refused while the five were in flight (they could have been right): no violation yet.
    expect(violations).toEqual([]);
    await drained();
    // The five failures fill the limit: the next attempt is a violation, and starts the rule's block
    // for every instance, whatever the password.
    const blocked = await login(0, 'burst', PASSWORD).expect(429);
    expect(blocked.headers['retry-after']).toBe(String(BLOCK_MS / 1000));
    await login(1, 'burst', PASSWORD).expect(429);
    expect(violations).toEqual([expect.stringContaining('burst')]);
    expect(checks.reached).toBe(LIMIT);
  });

  it('gives back the units of successful logins held at once on both instances', async () => {
    checks.hold();
    const statuses: number[] = [];
    const all = Array.from({ length: LIMIT }, (_, i) => login(i, 'fine', PASSWORD).then((res) => statuses.push(res.status)));
    await until(() => checks.reached === LIMIT * 2, 20_000);
    checks.letGo();
    await Promise.all(all);
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    await drained();
    for (let i = 0; i < LIMIT; i++) await login(i, 'fine', 'wrong').expect(401);
    await login(0, 'fine', PASSWORD).expect(429);
  });

  it('refuses the part of a burst of slow successful logins beyond the limit, without a violation or a block', async () => {
    checks.reached = 0;
    checks.hold();
    const answers: { status: number; retryAfter?: string }[] = [];
    const all = Array.from({ length: 2 * LIMIT }, (_, i) =>
      login(i, 'eager', PASSWORD).then((res) => answers.push({ status: res.status, retryAfter: res.headers['retry-after'] })),
    );
    // Five hold the whole limit at the checks (any of them could still fail); the five others are
    // refused at once, told to come back in a second.
    await until(() => answers.length === LIMIT, 20_000);
    expect(checks.reached).toBe(LIMIT);
    expect(answers).toEqual(Array.from({ length: LIMIT }, () => ({ status: 429, retryAfter: '1' })));
    checks.letGo();
    await Promise.all(all);
    expect(answers.slice(LIMIT).map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    await drained();
    // No violation, no block: the refused five come back at the same instant and are let in.
    for (let i = 0; i < LIMIT; i++) await login(i, 'eager', PASSWORD).expect(201);
    expect(violations.filter((key) => key.includes('eager'))).toEqual([]);
    // And the failure limit is whole still.
    await drained();
    for (let i = 0; i < LIMIT; i++) await login(i, 'eager', 'wrong').expect(401);
  });

  it('lets a burst of slow successful logins beyond the limit through when the rule waits (waitMs)', async () => {
    checks.reached = 0;
    checks.hold();
    let arrived = 0;
    const count = (req: IncomingMessage) => void (req.url === '/login-waiting' && arrived++);
    for (const { t } of instances) (t.app.getHttpServer() as Server).on('request', count);
    const statuses: number[] = [];
    const all = Array.from({ length: 2 * LIMIT }, (_, i) =>
      instances[i % 2].t
        .http()
        .post('/login-waiting')
        .set('X-Client', 'patient')
        .send({ password: PASSWORD })
        .then((res) => statuses.push(res.status)),
    );
    // All ten are in: five at the checks, and the five beyond the limit waiting for their units.
    await until(() => arrived === 2 * LIMIT && checks.reached === LIMIT, 20_000);
    for (const { t } of instances) (t.app.getHttpServer() as Server).off('request', count);
    expect(statuses).toEqual([]);
    checks.letGo();
    await Promise.all(all);
    expect(statuses).toEqual(Array.from({ length: 2 * LIMIT }, () => 201));
    expect(checks.reached).toBe(2 * LIMIT);
    expect(violations.filter((key) => key.includes('patient'))).toEqual([]);
  });
}
