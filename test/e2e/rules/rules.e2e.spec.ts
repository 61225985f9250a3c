import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { factoryModule, hostedModule, inheritedModule, multiModule, rulesModule } from './rules.app.js';

const START = Date.UTC(2030, 0, 1); // a whole multiple of every window: windows start here

describe.each(ADAPTERS)('rules on %s', (adapter) => {
  let clock: FakeClock;
  let t: TestApp;
  afterEach(() => t.close());

  describe('module default, per-route counting, overrides, skips', () => {
    beforeEach(async () => {
      clock = new FakeClock(START);
      t = await startApp(adapter, rulesModule(clock));
    });

    it('admits the limit, then answers 429 with Retry-After and a problem body, then recovers', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await t.http().get('/a').expect(200);
        expect(res.headers['ratelimit-policy']).toBe('"default";q=3;w=10');
        expect(res.headers['ratelimit']).toBe(`"default";r=${2 - i};t=10`);
        expect(res.headers['x-ratelimit-limit']).toBe('3');
        expect(res.headers['x-ratelimit-remaining']).toBe(String(2 - i));
      }
      clock.advance(4_000);
      const denied = await t.http().get('/a').expect(429);
      expect(denied.headers['retry-after']).toBe('6');
      expect(denied.headers['ratelimit']).toBe('"default";r=0;t=6');
      expect(denied.body).toEqual({
        type: 'about:blank',
        title: 'Too Many Requests',
        status: 429,
        detail: "Rate limit 'default' exceeded: at most 3 requests per 10 s. Retry in 6 s.",
        rule: 'default',
        limit: 3,
        windowMs: 10_000,
        retryAfterSeconds: 6,
      });
      clock.advance(5_999);
      await t.http().get('/a').expect(429);
      clock.advance(1);
      await t.http().get('/a').expect(200);
    });

    it('counts each route separately', async () => {
      for (let i = 0; i < 3; i++) await t.http().get('/a').expect(200);
      await t.http().get('/a').expect(429);
      await t.http().get('/b').expect(200);
    });

    it('never limits a skipped route and sends no headers for it', async () => {
      for (let i = 0; i < 10; i++) {
        const res = await t.http().get('/health').expect(200);
        expect(res.headers['ratelimit']).toBeUndefined();
      }
    });

    it('adds a handler rule beside the module default', async () => {
      const first = await t.http().post('/login').expect(201);
      expect(first.headers['ratelimit-policy']).toBe('"default";q=3;w=10, "login";q=2;w=60');
      await t.http().post('/login').expect(201);
      const denied = await t.http().post('/login').expect(429);
      expect(denied.body.rule).toBe('login');
      expect(denied.headers['retry-after']).toBe('60');
    });

    it('lets a handler override the module rule', async () => {
      await t.http().get('/strict').expect(200);
      await t.http().get('/strict').expect(429);
    });

    it('lets a controller override the module rule and a handler override the controller', async () => {
      for (let i = 0; i < 2; i++) await t.http().get('/ctl/inherit').expect(200);
      await t.http().get('/ctl/inherit').expect(429);
      for (let i = 0; i < 4; i++) await t.http().get('/ctl/handler-wins').expect(200);
      await t.http().get('/ctl/handler-wins').expect(429);
    });

    it('honours a controller-wide skip and a handler that re-enables limiting', async () => {
      for (let i = 0; i < 5; i++) await t.http().get('/open').expect(200);
      for (let i = 0; i < 3; i++) await t.http().get('/open/counted').expect(200);
      await t.http().get('/open/counted').expect(429);
    });
  });

  describe('several named rules on one route', () => {
    beforeEach(async () => {
      clock = new FakeClock(START);
      t = await startApp(adapter, multiModule(clock));
    });

    it('applies every rule and names the one that denied', async () => {
      const res = await t.http().get('/multi').expect(200);
      expect(res.headers['ratelimit-policy']).toBe('"burst";q=2;w=1, "sustained";q=5;w=60');
      expect(res.headers['ratelimit']).toBe('"burst";r=1;t=1, "sustained";r=4;t=60');
      await t.http().get('/multi').expect(200);
      const burst = await t.http().get('/multi').expect(429);
      expect(burst.body.rule).toBe('burst');
      clock.advance(1_000);
      await t.http().get('/multi').expect(200);
      await t.http().get('/multi').expect(200);
      clock.advance(1_000);
      // Each rule counts independently: the request "burst" denied still counted for "sustained".
      const sustained = await t.http().get('/multi').expect(429);
      expect(sustained.body.rule).toBe('sustained');
      expect(sustained.headers['retry-after']).toBe('58');
    });

    it('skips only the named rule', async () => {
      for (let i = 0; i < 5; i++) {
        const res = await t.http().get('/multi/sustained-only').expect(200);
        expect(res.headers['ratelimit-policy']).toBe('"sustained";q=5;w=60');
      }
      await t.http().get('/multi/sustained-only').expect(429);
    });
  });

  describe('handlers inherited from one base controller', () => {
    beforeEach(async () => {
      clock = new FakeClock(START);
      t = await startApp(adapter, inheritedModule(clock));
    });

    it("applies each controller's own decorators and counts each route apart", async () => {
      // Internal skips every rule; it must not lend that to the other controllers.
      for (let i = 0; i < 4; i++) await t.http().get('/internal').expect(200);
      await t.http().get('/orders').expect(200).expect('ratelimit-policy', '"default";q=1;w=10');
      await t.http().get('/orders').expect(429);
      await t.http().get('/users').expect(200).expect('ratelimit-policy', '"default";q=2;w=10');
      await t.http().get('/users').expect(200);
      const denied = await t.http().get('/users').expect(429);
      expect(denied.body.rule).toBe('default');
    });
  });

  describe('controllers made by a factory, with one class name', () => {
    beforeEach(async () => {
      clock = new FakeClock(START);
      t = await startApp(adapter, factoryModule(clock));
    });

    it('counts each controller apart', async () => {
      for (const path of ['/books', '/films']) {
        await t.http().get(path).expect(200);
        await t.http().get(path).expect(200);
        await t.http().get(path).expect(429);
      }
    });
  });
});

describe('controllers with one class name at one path, on two hosts (express)', () => {
  let t: TestApp | undefined;
  afterEach(() => t?.close());

  it('counts each controller apart', async () => {
    t = await startApp('express', hostedModule(new FakeClock(START)));
    for (const host of ['a.example', 'b.example']) {
      await t.http().get('/hosted').set('Host', host).expect(200, { host });
      await t.http().get('/hosted').set('Host', host).expect(200);
      await t.http().get('/hosted').set('Host', host).expect(429);
    }
  });
});
