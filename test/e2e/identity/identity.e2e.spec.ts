import { RateLimitService } from '../../../lib/index.js';
import { memoryStorage } from '../../../lib/storage/memory-storage.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { identityModule, numericUserId, queryUser, userHeader } from './identity.app.js';

describe.each(ADAPTERS)('client identity on %s', (adapter) => {
  let t: TestApp;
  afterEach(() => t.close());

  describe('without a trusted proxy', () => {
    beforeEach(async () => {
      t = await startApp(adapter, identityModule({ clock: new FakeClock() }));
    });

    it('ignores spoofed X-Forwarded-For, Forwarded and X-Real-IP', async () => {
      await t.http().get('/ip').set('X-Forwarded-For', '203.0.113.1').expect(200);
      await t.http().get('/ip').set('Forwarded', 'for=203.0.113.2').expect(200);
      await t.http().get('/ip').set('X-Real-IP', '203.0.113.3').expect(429);
      await t.http().get('/ip').set('X-Forwarded-For', '198.51.100.7, 203.0.113.9').expect(429);
    });

    it('counts per API key with a rule-level resolver, and by address without a key', async () => {
      for (const key of ['k1', 'k2']) {
        await t.http().get('/keyed').set('x-api-key', key).expect(200);
        await t.http().get('/keyed').set('x-api-key', key).expect(200);
      }
      await t.http().get('/keyed').set('x-api-key', 'k1').expect(429);
      await t.http().get('/keyed').expect(200);
      await t.http().get('/keyed').expect(200);
      await t.http().get('/keyed').expect(429);
    });

    it('shares one pool between routes of the same scope', async () => {
      await t.http().get('/reports/a').expect(200);
      await t.http().get('/reports/b').expect(200);
      await t.http().get('/reports/a').expect(200);
      const res = await t.http().get('/reports/b').expect(429);
      expect(res.body.rule).toBe('reports');
    });

    it('charges the cost of each request', async () => {
      const first = await t.http().get('/heavy').expect(200);
      expect(first.headers['ratelimit']).toContain('"heavy";r=2;');
      await t.http().get('/heavy').expect(200);
      const denied = await t.http().get('/heavy').expect(429);
      expect(denied.body.rule).toBe('heavy');
    });

    it('charges a request-derived cost as whole units, at least one, with no refund for a negative one', async () => {
      const batch = (size: string) => t.http().get('/batch').set('x-batch', size);
      await batch('-100').expect(200).expect('ratelimit', '"batch";r=3;t=60'); // no refund
      await batch('not a number').expect(200).expect('ratelimit', '"batch";r=2;t=60');
      await batch('0').expect(200).expect('ratelimit', '"batch";r=1;t=60');
      await batch('1e308').expect(429);
      await batch('Infinity').expect(429);
      await batch('0.5').expect(200).expect('ratelimit', '"batch";r=0;t=60');
      await batch('-5').expect(429);
    });
  });

  describe('forwarded headers while trustProxy is off', () => {
    let warnings: string[];
    const logger = () => ({ log: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined });
    // The event log off: these tests read the warnings about forwarded headers alone.
    beforeEach(() => {
      warnings = [];
    });

    it('warns once when a private or loopback peer sends X-Forwarded-For or Forwarded (a proxy nobody trusted)', async () => {
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), logger: logger(), logging: false }));
      await t.http().get('/ip').expect(200);
      expect(warnings).toEqual([]);
      await t.http().get('/ip').set('X-Forwarded-For', '203.0.113.1').expect(200);
      await t.http().get('/ip').set('Forwarded', 'for=203.0.113.2').expect(429);
      expect(warnings).toEqual([expect.stringContaining('RAMPART_FORWARDED_WITHOUT_TRUST')]);
      expect(warnings[0]).toMatch(/carries X-Forwarded-For or Forwarded while trustProxy is off/);
    });

    it('does not warn when trustProxy is set', async () => {
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), logger: logger(), logging: false, trustProxy: { proxies: ['loopback'] } }));
      await t.http().get('/ip').set('X-Forwarded-For', '203.0.113.1').expect(200);
      expect(warnings).toEqual([]);
    });
  });

  describe('with a module key resolver', () => {
    beforeEach(async () => {
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), keyResolver: userHeader }));
    });

    it('counts per user, falling back to the address when there is none', async () => {
      for (const user of ['alice', 'bob']) {
        await t.http().get('/ip').set('x-user', user).expect(200);
        await t.http().get('/ip').set('x-user', user).expect(200);
        await t.http().get('/ip').set('x-user', user).expect(429);
      }
      await t.http().get('/ip').expect(200);
    });
  });

  describe('with a key resolver returning something other than a string', () => {
    it('takes a numeric id as its text: bans by key and escalation apply to it', async () => {
      const storage = memoryStorage();
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), keyResolver: numericUserId, storage, escalation: { blockAfterViolations: 2 } }));
      await t.app.get(RateLimitService).ban({ type: 'key', key: '42' }, 'permanent', undefined, 'abuse', 'ops');
      await t.http().get('/ip').set('x-user-id', '42').expect(403);

      for (let i = 0; i < 2; i++) await t.http().get('/ip').set('x-user-id', '7').expect(200);
      await t.http().get('/ip').set('x-user-id', '7').expect(429).expect('retry-after', '60');
      await t.http().get('/ip').set('x-user-id', '7').expect(429).expect('retry-after', '900');
      expect(await storage.violations.count('7', 0)).toBe(2);
    });

    it('falls back to the address for an array (a repeated query parameter)', async () => {
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), keyResolver: queryUser }));
      await t.http().get('/ip?user=alice').expect(200);
      await t.http().get('/ip?user=alice').expect(200);
      await t.http().get('/ip').expect(200);
      await t.http().get('/ip').expect(200);
      await t.http().get('/ip?user=bob&user=bob').expect(429);
    });
  });

  describe('behind a trusted proxy (loopback)', () => {
    beforeEach(async () => {
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), trustProxy: { proxies: ['loopback'] } }));
    });

    it('counts each forwarded client separately', async () => {
      for (const ip of ['203.0.113.1', '203.0.113.2']) {
        await t.http().get('/ip').set('X-Forwarded-For', ip).expect(200);
        await t.http().get('/ip').set('X-Forwarded-For', ip).expect(200);
        await t.http().get('/ip').set('X-Forwarded-For', ip).expect(429);
      }
    });

    it('uses the rightmost untrusted hop, not a fake leftmost entry', async () => {
      await t.http().get('/ip').set('X-Forwarded-For', '1.1.1.1, 203.0.113.5').expect(200);
      await t.http().get('/ip').set('X-Forwarded-For', '2.2.2.2, 203.0.113.5').expect(200);
      await t.http().get('/ip').set('X-Forwarded-For', '3.3.3.3, 203.0.113.5').expect(429);
    });

    it('counts NAT64 and 6to4 clients by the IPv4 address they carry, and applies its bans and lists', async () => {
      const xff = (ip: string) => t.http().get('/ip').set('X-Forwarded-For', ip);
      // Two IPv4 clients behind one NAT64 gateway (same /64): counted apart.
      await xff('64:ff9b::c000:201').expect(200);
      await xff('64:ff9b::c000:201').expect(200);
      await xff('64:ff9b::c000:202').expect(200);
      await xff('64:ff9b::192.0.2.1').expect(429);
      // One 6to4 host, two of its /64s: one client.
      await xff('2002:c633:6401:1::1').expect(200);
      await xff('2002:c633:6401:2::1').expect(200);
      await xff('2002:c633:6401:3::1').expect(429);
      // The IPv4 address's ban and deny-list entry apply to the addresses that carry it.
      const service = t.app.get(RateLimitService);
      await service.ban({ type: 'cidr', cidr: '198.51.100.7' }, 'permanent', undefined, 'abuse', 'ops');
      await service.putAccessEntry('deny', '203.0.113.0/24', 'ops');
      expect((await xff('64:ff9b::c633:6407')).body).toMatchObject({ status: 403, reason: 'banned' });
      expect((await xff('2002:cb00:7109::1')).body).toMatchObject({ status: 403, reason: 'deny-listed' });
    });

    it('groups IPv6 clients by /64', async () => {
      await t.http().get('/ip').set('X-Forwarded-For', '2001:db8:1:2::1').expect(200);
      await t.http().get('/ip').set('X-Forwarded-For', '2001:db8:1:2:ffff::9').expect(200);
      await t.http().get('/ip').set('X-Forwarded-For', '2001:db8:1:2::abcd').expect(429);
      await t.http().get('/ip').set('X-Forwarded-For', '2001:db8:1:3::1').expect(200);
    });
  });

  describe('behind a trusted proxy whose own range is allow-listed', () => {
    /** The proxy (this host) is allow-listed, as an operator's own network often is. */
    async function proxied(header: 'x-forwarded-for' | 'forwarded' | 'x-real-ip'): Promise<void> {
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), trustProxy: { proxies: ['loopback'], header } }));
      const service = t.app.get(RateLimitService);
      await service.putAccessEntry('allow', '127.0.0.0/8', 'ops');
      await service.putAccessEntry('allow', '::1', 'ops');
    }
    /** The statuses of one request per header value, in order, under a limit of 2. */
    async function statuses(name: string, values: Array<string | string[]>): Promise<number[]> {
      const out: number[] = [];
      for (const value of values)
        out.push(
          (
            await t
              .http()
              .get('/ip')
              .set(name, value as string)
          ).status,
        );
      return out;
    }

    it('counts clients the proxy forwards as unknown or obfuscated under one key, not as the allow-listed proxy', async () => {
      await proxied('forwarded');
      await t.http().get('/ip').expect(200); // the proxy itself is allow-listed
      expect(await statuses('Forwarded', ['for=unknown', 'for=_hidden;proto=https', 'for="[::203.0.113.5]"'])).toEqual([200, 200, 429]);
      // A client the proxy names is counted on its own.
      expect(await statuses('Forwarded', ['for=203.0.113.5', 'for=203.0.113.5', 'for=203.0.113.5'])).toEqual([200, 200, 429]);
      for (let i = 0; i < 5; i++) await t.http().get('/ip').expect(200);
    });

    it('counts X-Forwarded-For entries that are no address (the IPv4-compatible ::a.b.c.d, unknown) as one unknown client', async () => {
      await proxied('x-forwarded-for');
      expect(await statuses('X-Forwarded-For', ['::203.0.113.5', 'unknown', '203.0.113.5, ::10.0.0.1'])).toEqual([200, 200, 429]);
    });

    it('counts clients whose X-Real-IP comes twice as one unknown client', async () => {
      await proxied('x-real-ip');
      expect(await statuses('X-Real-IP', [['203.0.113.5', '198.51.100.1'], '203.0.113.6, 198.51.100.1', ['203.0.113.7', '203.0.113.7']])).toEqual([
        200, 200, 429,
      ]);
    });
  });

  describe('with an aggregate rule per IPv6 /48', () => {
    beforeEach(async () => {
      const rules = [
        { limit: 2, windowMs: 60_000, algorithm: 'fixed-window' as const },
        { name: 'per-48', limit: 3, windowMs: 60_000, algorithm: 'fixed-window' as const, ipv6PrefixLength: 48 },
      ];
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), trustProxy: { proxies: ['loopback'] }, rules }));
    });

    it('limits every /64 of one /48 together, besides each /64 on its own', async () => {
      const xff = (ip: string) => t.http().get('/ip').set('X-Forwarded-For', ip);
      const first = await xff('2001:db8:1:1::1').expect(200);
      expect(first.headers['ratelimit']).toBe('"default";r=1;t=60, "per-48";r=2;t=60');
      await xff('2001:db8:1:1::2').expect(200);
      await xff('2001:db8:1:2::1').expect(200);
      // A fourth /64 of the same /48 is refused by the aggregate rule, though its own /64 is fresh.
      const denied = await xff('2001:db8:1:3::1').expect(429);
      expect(denied.body.rule).toBe('per-48');
      await xff('2001:db8:2:1::1').expect(200);
      // IPv4 clients are counted by their address under both rules.
      await xff('203.0.113.1').expect(200);
      await xff('203.0.113.1').expect(200);
      await xff('203.0.113.1').expect(429);
    });

    it("refuses every /64 of a /48 that escalation blocked for the aggregate rule's violations, on every route", async () => {
      await t.close();
      const rules = [{ name: 'per-48', limit: 1, windowMs: 60_000, algorithm: 'fixed-window' as const, ipv6PrefixLength: 48 }];
      const escalation = { blockAfterViolations: 1, blockDurationMs: 600_000 };
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), trustProxy: { proxies: ['loopback'] }, rules, escalation }));
      const xff = (path: string, ip: string) => t.http().get(path).set('X-Forwarded-For', ip);
      await xff('/ip', '2001:db8:1:1::1').expect(200);
      await xff('/ip', '2001:db8:1:2::1').expect(429); // the violation that blocks the /48
      // A neighbour /64 is refused on a route the rule does not count on, too.
      await xff('/open', '2001:db8:1:3::1').expect(429).expect('retry-after', '600');
      await xff('/open', '2001:db8:2:1::1').expect(200);
    });
  });

  describe('with an IPv6 prefix of /128', () => {
    beforeEach(async () => {
      t = await startApp(adapter, identityModule({ clock: new FakeClock(), trustProxy: { proxies: ['127.0.0.1/8', '::1'] }, ipv6PrefixLength: 128 }));
    });

    it('counts each IPv6 address', async () => {
      for (const ip of ['2001:db8::1', '2001:db8::2']) {
        await t.http().get('/ip').set('X-Forwarded-For', ip).expect(200);
        await t.http().get('/ip').set('X-Forwarded-For', ip).expect(200);
        await t.http().get('/ip').set('X-Forwarded-For', ip).expect(429);
      }
    });
  });
});
