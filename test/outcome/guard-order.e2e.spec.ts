/**
 * Rampart's guard runs ahead of the app's auth guard on routes whose rules count outcomes only:
 * every other route keeps the app's order, so a keyResolver that reads the `request.user` the auth
 * guard set keeps limiting per user there, while failed logins are still counted before the auth
 * guard refuses them.
 */
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { GUARD_PLACEMENTS, guardOrderApp, moduleWideApp } from './guard-order.app.js';

describe.each(ADAPTERS)('guard order beside a route that counts outcomes (%s)', (adapter) => {
  describe.each(GUARD_PLACEMENTS)('auth guard placement: %s', (placement) => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startApp(adapter, guardOrderApp(placement, new FakeClock()));
    });
    afterAll(() => t.close());

    it('limits a route without countIf per user, as the auth guard before Rampart identifies them', async () => {
      for (let i = 0; i < 5; i++) await t.http().get('/me').set('X-User', 'alice').expect(200);
      await t.http().get('/me').set('X-User', 'alice').expect(429);
      // Another user from the same address has a limit of its own.
      await t.http().get('/me').set('X-User', 'bob').expect(200);
    });

    it('counts failed logins before the auth guard refuses them', async () => {
      await t.http().post('/login').set('X-Password', 'wrong').expect(401);
      await t.http().post('/login').set('X-Password', 'wrong').expect(401);
      const refused = await t.http().post('/login').set('X-Password', 'right').expect(429);
      expect((refused.body as { rule?: string }).rule).toBe('login-failures');
    });
  });
});

describe.each(ADAPTERS)('guard order under a module rule that counts outcomes, skipped on one route (%s)', (adapter) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp(adapter, moduleWideApp(new FakeClock()));
  });
  afterAll(() => t.close());

  it('keeps the app order on the route that skips it, and counts it once there', async () => {
    for (let i = 0; i < 5; i++) await t.http().get('/me').set('X-User', 'carol').expect(200);
    await t.http().get('/me').set('X-User', 'carol').expect(429);
    await t.http().get('/me').set('X-User', 'dave').expect(200);
  });

  it('counts failed logins before the auth guard elsewhere', async () => {
    await t.http().post('/login').set('X-Password', 'wrong').expect(401);
    await t.http().post('/login').set('X-Password', 'wrong').expect(401);
    const refused = await t.http().post('/login').set('X-Password', 'right').expect(429);
    expect((refused.body as { rule?: string }).rule).toBe('login-failures');
  });
});
