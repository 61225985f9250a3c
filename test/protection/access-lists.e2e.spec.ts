import { RateLimitService } from '../../lib/index.js';
import { memoryStorage, type MemoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { protectionModule } from './protection.app.js';

const MINUTE = 60_000;

describe.each(ADAPTERS)('allow and deny lists on %s', (adapter) => {
  let clock: FakeClock;
  let storage: MemoryStorage;
  let t: TestApp;
  let protection: RateLimitService;

  beforeEach(async () => {
    clock = new FakeClock();
    storage = memoryStorage();
    t = await startApp(adapter, protectionModule({ clock, storage }));
    protection = t.app.get(RateLimitService);
  });
  afterEach(() => t.close());

  const from = (address: string) => t.http().get('/data').set('X-Forwarded-For', address);

  it('lets allow-listed clients skip every limit, without rate-limit headers', async () => {
    await protection.putAccessEntry('allow', '203.0.113.0/24', 'ops', { note: 'office' });
    for (let i = 0; i < 10; i++) {
      const res = await from('203.0.113.9').expect(200);
      expect(res.headers['ratelimit']).toBeUndefined();
      expect(res.headers['ratelimit-policy']).toBeUndefined();
    }
    // Its neighbour outside the range is limited as usual.
    await from('203.0.114.9').expect(200);
    await from('203.0.114.9').expect(200);
    await from('203.0.114.9').expect(429);
  });

  it('lets the allow-list win over a ban', async () => {
    await protection.ban({ type: 'key', key: '203.0.113.9' }, 'permanent', undefined, 'abuse', 'ops');
    await from('203.0.113.9').expect(403);
    await protection.putAccessEntry('allow', '203.0.113.9', 'ops');
    await from('203.0.113.9').expect(200);
  });

  it('answers 403 to a deny-listed IPv4 range, with a problem body naming the reason', async () => {
    await protection.putAccessEntry('deny', '198.51.100.0/24', 'ops');
    const res = await from('198.51.100.77').expect(403);
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      detail: 'Requests from this address are not accepted.',
      reason: 'deny-listed',
    });
    expect(res.headers['retry-after']).toBeUndefined();
    await from('198.51.101.1').expect(200);
  });

  it('answers 403 to a deny-listed IPv6 range, whatever the address within it', async () => {
    await protection.putAccessEntry('deny', '2001:db8:abcd::/48', 'ops');
    await from('2001:db8:abcd:1::5').expect(403);
    await from('2001:db8:abcd:ffff:ffff:ffff:ffff:ffff').expect(403);
    await from('2001:db8:abce::1').expect(200);
    // The IPv4 deny-list does not catch IPv6 clients and vice versa.
    await protection.putAccessEntry('deny', '0.0.0.0/0', 'ops', { force: true });
    await from('2001:db8:abce::1').expect(200);
    await from('192.0.2.1').expect(403);
  });

  it('enforces entries written by another instance once synced, and lifts removed or expired ones', async () => {
    await storage.accessList.put(
      { kind: 'deny', cidr: '192.0.2.0/24', createdBy: 'ops', createdAtMs: clock.now(), expiresAtMs: clock.now() + 10 * MINUTE },
      clock.now(),
    );
    await from('192.0.2.1').expect(200); // not fetched yet
    await protection.syncNow();
    await from('192.0.2.1').expect(403);
    clock.advance(10 * MINUTE);
    await from('192.0.2.1').expect(200);

    await protection.putAccessEntry('deny', '192.0.2.0/24', 'ops');
    await from('192.0.2.2').expect(403);
    expect(await protection.removeAccessEntry('deny', '192.0.2.0/24')).toBe(true);
    await from('192.0.2.2').expect(200);
    expect(await protection.removeAccessEntry('deny', '192.0.2.0/24')).toBe(false);
  });

  it("leaves routes without rules alone with enforceBans: 'limited-routes'", async () => {
    await t.close();
    t = await startApp(adapter, protectionModule({ clock, storage, enforceBans: 'limited-routes' }));
    protection = t.app.get(RateLimitService);
    await protection.putAccessEntry('deny', '198.51.100.0/24', 'ops');
    await t.http().get('/health').set('X-Forwarded-For', '198.51.100.1').expect(200);
  });
});
