import { RateLimitConfigurationError, RateLimitModule } from '../../lib/index.js';
import { Rampart } from '../../lib/engine/rampart.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS } from '../support/http-app.js';
import { until } from '../support/until.js';
import { startConcurrencyApp, type ConcurrencyApp } from './concurrency.app.js';

describe.each(ADAPTERS)("the module's concurrency (%s)", (adapter) => {
  let t: ConcurrencyApp | undefined;
  afterEach(async () => {
    if (t) while (t.jobs.gate.waiting > 0) t.jobs.gate.release();
    await t?.close();
    t = undefined;
  });

  /** Sends a request to `path` and waits until its handler holds it. */
  const hold = async (app: ConcurrencyApp, path: string) => {
    const before = app.jobs.gate.started;
    const sent = app.send(path);
    await until(() => app.jobs.gate.started === before + 1);
    return sent;
  };

  it('limits every route without a limit of its own, in one pool with scope; a route’s own limit wins; @SkipThrottle() routes are left out', async () => {
    const app = (t = await startConcurrencyApp(adapter, { clock: new FakeClock(), concurrency: { limit: 1, name: 'api', scope: 'api' } }));
    const held = await hold(app, '/plain');
    const refused = await app.get('/free');
    expect(refused).toMatchObject({ status: 429, body: { rule: 'api', limit: 1 } });
    expect(refused.headers['ratelimit-policy']).toBe('"default";q=100;w=60, "api";q=1;qu="concurrent-requests"');
    expect(await app.app.get(Rampart).leases.count('api:api:127.0.0.1')).toBe(1);
    // Its own @ConcurrencyLimit(2): a pool of its own.
    await hold(app, '/slow');
    await hold(app, '/slow');
    expect((await app.get('/slow')).body).toMatchObject({ rule: 'concurrency', limit: 2 });
    // Under @SkipThrottle(): not limited by the module's concurrency.
    await hold(app, '/skipped');
    await hold(app, '/skipped');
    app.jobs.gate.release();
    expect((await held.answer).text).toBe('plain');
    await until(() => app.app.get(Rampart).leases.size === 2);
    expect(await app.get('/free')).toMatchObject({ status: 200, text: 'free' });
  });

  it('leaves the admin API out: an operator is served while the client holds every slot', async () => {
    const adminApiKey = 'concurrency-admin-key-0123456789';
    const concurrency = { limit: 1, scope: 'api' };
    const app = (t = await startConcurrencyApp(adapter, { clock: new FakeClock(), concurrency, adminApiKey, admin: {} }));
    await hold(app, '/plain');
    expect((await app.get('/free')).status).toBe(429);
    expect((await app.get('/rate-limit/violations', { authorization: `Bearer ${adminApiKey}` })).status).toBe(200);
  });

  it('counts each route apart without scope', async () => {
    const app = (t = await startConcurrencyApp(adapter, { clock: new FakeClock(), concurrency: { limit: 1 } }));
    await hold(app, '/plain');
    expect((await app.get('/plain')).body).toMatchObject({ status: 429, rule: 'concurrency', limit: 1 });
    expect(await app.get('/free')).toMatchObject({ status: 200, text: 'free' });
  });
});

describe("the module's concurrency, when the module is defined", () => {
  const problems = (concurrency: unknown) => {
    try {
      RateLimitModule.forRoot({ concurrency: concurrency as never });
    } catch (error) {
      if (error instanceof RateLimitConfigurationError) return error.problems;
      throw error;
    }
    return [];
  };

  it('refuses what is no concurrency limit, and a limit that is no positive integer, naming the option', () => {
    expect(problems(5)).toEqual(["concurrency must be a concurrency limit such as { limit: 10 } or { limit: 100, scope: 'api' }, got 5."]);
    expect(problems({ limit: Number.NaN })).toEqual(['concurrency limit must be a positive integer, got NaN.']);
    expect(problems({ limit: 2, onStoreError: 'sometimes' })).toEqual([
      "concurrency onStoreError must be 'allow' (admit requests uncounted while the store is down) or 'deny' (answer 503), got \"sometimes\".",
    ]);
    expect(problems({ limit: 2 })).toEqual([]);
  });
});
