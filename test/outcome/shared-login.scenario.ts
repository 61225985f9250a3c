/**
 * Failed logins counted by two app instances (Express and Fastify) sharing one store (MongoDB,
 * Redis): 100 concurrent wrong passwords spread over both, under a failure limit of 5, let exactly
 * 5 reach the credential checks of the two; successful logins give their units back through the store.
 */
import type { ExecutionContext } from '@nestjs/common';
import { Rampart } from '../../lib/engine/rampart.js';
import type { RateLimitStore } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { startApp, type AdapterName, type TestApp } from '../support/http-app.js';
import { until } from '../support/until.js';
import { Checks, loginApp, PASSWORD } from './login.app.js';

const LIMIT = 5;
const ATTEMPTS = 100;

/** The scenario, on instances each given a store of their own by `connect` (closed by what it returns). */
export function sharedLoginScenario(connect: () => Promise<{ store: RateLimitStore; close(): Promise<void> }>): void {
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 1));
  const checks = new Checks();
  const instances: { t: TestApp; close(): Promise<void> }[] = [];

  beforeAll(async () => {
    for (const adapter of ['express', 'fastify'] as AdapterName[]) {
      const { store, close } = await connect();
      const { metadata } = loginApp('app-guard-first', checks, {
        store,
        clock,
        storeTimeoutMs: 10_000,
        rules: [{ name: 'login-failures', limit: LIMIT, windowMs: 900_000, algorithm: 'fixed-window', countIf: 'failed' }],
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
    await drained();
    await login(0, 'burst', PASSWORD).expect(429);
    await login(1, 'burst', PASSWORD).expect(429);
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
}
