import { RATE_LIMIT_STORE, RateLimitService, type RateLimitStore } from '../../../lib/index.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { ADMIN_KEY, hooksModule, START } from './hooks.app.js';

describe.each(ADAPTERS)('a RateLimitGuard subclass overriding every hook (%s)', (adapter) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startApp(adapter, hooksModule());
  });
  afterEach(() => t.close());

  const get = (headers: Record<string, string>) => {
    let req = t.http().get('/items');
    for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
    return req;
  };

  it('identifies by getClientAddress and an async getTracker, and counts under generateKey', async () => {
    await get({ 'x-test-address': '198.51.100.1', 'x-tenant': 'acme' }).expect(200);
    // Another address, same tenant: the same pool.
    await get({ 'x-test-address': '198.51.100.2', 'x-tenant': 'acme' }).expect(200);
    const limited = await get({ 'x-test-address': '198.51.100.3', 'x-tenant': 'acme' }).expect(420);
    expect(limited.body).toEqual({ custom: 'limited', rule: 'default', retryAfterSeconds: 60 });
    const store = t.app.get<RateLimitStore>(RATE_LIMIT_STORE);
    expect(
      await store.get('custom|default|tenant:acme', { name: 'default', algorithm: 'fixed-window', limit: 2, windowMs: 60_000, blockDurationMs: 0 }, START),
    ).toMatchObject({ allowed: false });
    // Without a tenant, the default getTracker: the address from getClientAddress.
    await get({ 'x-test-address': '198.51.100.3' }).expect(200);
  });

  it('skips requests shouldSkip lets through, uncounted', async () => {
    for (let i = 0; i < 4; i++) await get({ 'x-test-address': '198.51.100.1', 'x-skip': 'yes' }).expect(200);
    await get({ 'x-test-address': '198.51.100.1' }).expect(200);
  });

  it('answers blocks and bans through their hooks', async () => {
    const client = { 'x-test-address': '198.51.100.9' };
    await get(client).expect(200);
    await get(client).expect(200);
    await get(client).expect(420);
    const blocked = await get(client).expect(421);
    expect(blocked.body).toEqual({ custom: 'blocked', untilMs: START + 600_000 });
    await t.app.get(RateLimitService).ban({ type: 'cidr', cidr: '203.0.113.0/24' }, 'permanent', undefined, 'abuse', 'ops');
    const banned = await get({ 'x-test-address': '203.0.113.5' }).expect(451);
    expect(banned.body).toEqual({ custom: 'banned', reason: 'banned' });
  });

  it("shows the counters the subclass's generateKey stored in the admin API's client view", async () => {
    await get({ 'x-test-address': '198.51.100.1', 'x-tenant': 'acme' }).expect(200);
    const view = await t.http().get('/rate-limit/clients/tenant:acme').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    expect(view.body.counters).toEqual([expect.objectContaining({ rule: 'default', route: 'HooksController.items', limit: 2, remaining: 1 })]);
  });
});
