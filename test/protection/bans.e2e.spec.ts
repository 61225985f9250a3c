import { Rampart } from '../../lib/engine/rampart.js';
import { RateLimitService } from '../../lib/index.js';
import { memoryStorage, type MemoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { protectionModule, userHeader } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;

describe.each(ADAPTERS)('bans on %s', (adapter) => {
  let clock: FakeClock;
  let storage: MemoryStorage;
  let t: TestApp;
  let protection: RateLimitService;

  async function start(options = {}) {
    clock = new FakeClock(START);
    storage = memoryStorage();
    t = await startApp(adapter, protectionModule({ clock, storage, ...options }));
    protection = t.app.get(RateLimitService);
  }
  afterEach(() => t.close());

  const from = (address: string, path = '/data') => t.http().get(path).set('X-Forwarded-For', address);

  describe('by client address', () => {
    beforeEach(() => start());

    it('bans an address key permanently (403) until an operator lifts it', async () => {
      const ban = await protection.ban({ type: 'key', key: '203.0.113.7' }, 'permanent', undefined, 'scraping', 'alice');
      expect(ban).toMatchObject({ kind: 'permanent', source: 'admin', createdBy: 'alice', reason: 'scraping' });
      const res = await from('203.0.113.7').expect(403);
      expect(res.body.reason).toBe('banned');
      await from('203.0.113.8').expect(200);
      clock.advance(365 * 24 * 60 * MINUTE);
      await from('203.0.113.7').expect(403);

      const lifted = await protection.unban({ type: 'key', key: '203.0.113.7' }, 'bob');
      expect(lifted).toMatchObject({ liftedBy: 'bob' });
      await from('203.0.113.7').expect(200);
      expect(await protection.unban({ type: 'key', key: '198.51.100.1' }, 'bob')).toBeNull();
    });

    it('blocks an address temporarily: 429 with Retry-After, then admitted again', async () => {
      await protection.ban({ type: 'key', key: '203.0.113.7' }, 'temporary', 10 * MINUTE, 'cool down', 'alice');
      const res = await from('203.0.113.7').expect(429);
      expect(res.headers['retry-after']).toBe('600');
      expect(res.body).toMatchObject({ status: 429, retryAfterSeconds: 600, blockedUntil: new Date(START + 10 * MINUTE).toISOString() });
      clock.advance(10 * MINUTE - 1_500);
      await from('203.0.113.7').expect(429).expect('retry-after', '2');
      clock.advance(1_500);
      await from('203.0.113.7').expect(200);
    });

    it('bans IPv4 and IPv6 ranges', async () => {
      await protection.ban({ type: 'cidr', cidr: '198.51.100.0/24' }, 'permanent', undefined, 'botnet', 'alice');
      await protection.ban({ type: 'cidr', cidr: '2001:db8:bad::/48' }, 'temporary', 5 * MINUTE, 'botnet', 'alice');
      await from('198.51.100.200').expect(403);
      await from('198.51.101.1').expect(200);
      await from('2001:db8:bad:1::1').expect(429).expect('retry-after', '300');
      await from('2001:db8:bad:ffff::9').expect(429);
      await from('2001:db8:bae::1').expect(200);
      clock.advance(5 * MINUTE);
      await from('2001:db8:bad:1::1').expect(200);
    });

    it('bans an IPv6 client by the key it is counted under (its /64)', async () => {
      await protection.ban({ type: 'key', key: '2001:db8:1:2::/64' }, 'permanent', undefined, 'abuse', 'alice');
      await from('2001:db8:1:2::1').expect(403);
      await from('2001:db8:1:2:ffff::1').expect(403);
      await from('2001:db8:1:3::1').expect(200);
    });

    it('refuses a malformed target', async () => {
      await expect(protection.ban({ type: 'cidr', cidr: '10.0.0.5/8' }, 'permanent', undefined, 'x', 'alice')).rejects.toThrow(/host bits/);
      await expect(protection.ban({ type: 'key', key: 'k' }, 'temporary', undefined, 'x', 'alice')).rejects.toThrow(/durationMs/);
    });

    it('reports the status of a client', async () => {
      await from('203.0.113.7').expect(200);
      await from('203.0.113.7').expect(200);
      await from('203.0.113.7').expect(429);
      const before = await protection.status('203.0.113.7', '203.0.113.7');
      expect(before).toEqual({ key: '203.0.113.7', verdict: { status: 'none' }, ban: null, recentViolations: 1 });
      await protection.ban({ type: 'key', key: '203.0.113.7' }, 'temporary', MINUTE, 'x', 'alice');
      const after = await protection.status('203.0.113.7');
      expect(after.verdict).toMatchObject({ status: 'blocked', untilMs: START + MINUTE });
      expect(after.ban).toMatchObject({ blockCount: 1, violationCount: 1 });
    });

    it('forgets the block count and the violations when an unban clears history', async () => {
      const client = '203.0.113.7';
      // Two automatic blocks: the next would last an hour.
      for (const minutes of [15, 30]) {
        await from(client).expect(200);
        await from(client).expect(200);
        await from(client).expect(429);
        await from(client).expect(429);
        await from(client)
          .expect(429)
          .expect('retry-after', String(minutes * 60));
        clock.advance(minutes * MINUTE);
      }
      expect((await protection.status(client)).ban).toMatchObject({ blockCount: 2 });
      await protection.unban({ type: 'key', key: client }, 'alice', true);
      expect(await protection.status(client)).toMatchObject({ ban: { blockCount: 0, liftedBy: 'alice' }, recentViolations: 0 });
      await from(client).expect(200);
      await from(client).expect(200);
      await from(client).expect(429);
      await from(client).expect(429);
      await from(client).expect(429).expect('retry-after', '900');
    });

    it('starts counting afresh after an unban without clearing history', async () => {
      const client = '203.0.113.7';
      await from(client).expect(200);
      await from(client).expect(200);
      for (let i = 0; i < 2; i++) await from(client).expect(429);
      await from(client).expect(429).expect('retry-after', '900');
      await protection.unban({ type: 'key', key: client }, 'alice');
      // The three violations before the unban no longer count: a fourth is not a new block.
      await from(client).expect(429).expect('retry-after', '60');
      expect((await protection.status(client)).ban).toMatchObject({ blockCount: 1, liftedBy: 'alice' });
    });
  });

  describe('by custom key', () => {
    beforeEach(() => start({ keyResolver: userHeader }));

    it('bans a user id wherever the user comes from', async () => {
      await protection.ban({ type: 'key', key: 'user-42' }, 'temporary', 10 * MINUTE, 'abuse', 'alice');
      await t.http().get('/data').set('x-user', 'user-42').set('X-Forwarded-For', '192.0.2.1').expect(429).expect('retry-after', '600');
      await t.http().get('/data').set('x-user', 'user-42').set('X-Forwarded-For', '192.0.2.2').expect(429);
      await t.http().get('/data').set('x-user', 'user-43').set('X-Forwarded-For', '192.0.2.1').expect(200);
    });

    it('still bans the range of a banned network, whoever the user is', async () => {
      await protection.ban({ type: 'cidr', cidr: '192.0.2.0/24' }, 'permanent', undefined, 'abuse', 'alice');
      await t.http().get('/data').set('x-user', 'user-43').set('X-Forwarded-For', '192.0.2.1').expect(403);
    });

    it("checks a rule's own identity (API key) against the bans", async () => {
      await protection.ban({ type: 'key', key: 'key-1' }, 'permanent', undefined, 'leaked', 'alice');
      await t.http().get('/api').set('x-api-key', 'key-1').set('x-user', 'user-1').expect(403);
      await t.http().get('/api').set('x-api-key', 'key-2').set('x-user', 'user-1').expect(200);
      await t.http().get('/data').set('x-user', 'user-1').expect(200);
    });

    it('refuses every user name blocked by a spray, past what an instance holds in memory', async () => {
      await t.close();
      await start({ keyResolver: userHeader, maxCachedBans: 5 });
      // Blocks of a login rule keyed by user name, written by the escalation (of any instance).
      for (let i = 0; i < 20; i++) {
        const block = {
          target: { type: 'key', key: `user-${i}` },
          kind: 'temporary',
          reason: 'x',
          source: 'auto',
          createdBy: 'rampart',
          violationCount: 3,
        } as const;
        await storage.bans.put({ ...block, expiresAtMs: START + 10 * MINUTE }, START);
      }
      await protection.syncNow();
      for (let i = 0; i < 20; i++) {
        await t.http().get('/data').set('x-user', `user-${i}`).set('X-Forwarded-For', '192.0.2.1').expect(429).expect('retry-after', '600');
      }
      await t.http().get('/data').set('x-user', 'user-20').set('X-Forwarded-For', '192.0.2.1').expect(200);
      expect(t.app.get(Rampart).bans.sizes.autoKeyBans).toBeLessThanOrEqual(5);
    });

    it('escalates on the identity the rule counts', async () => {
      for (let i = 0; i < 5; i++) await t.http().get('/api').set('x-api-key', 'key-1').set('x-user', 'user-1').expect(200);
      await t.http().get('/api').set('x-api-key', 'key-1').set('x-user', 'user-1').expect(429);
      await t.http().get('/api').set('x-api-key', 'key-1').set('x-user', 'user-2').expect(429);
      await t.http().get('/api').set('x-api-key', 'key-1').set('x-user', 'user-3').expect(429).expect('retry-after', '900');
      expect(await storage.violations.count('key-1', 0)).toBe(3);
      expect((await protection.status('key-1')).ban).toMatchObject({ kind: 'temporary', source: 'auto' });
      // The API key is blocked; the users behind it are not.
      await t.http().get('/api').set('x-api-key', 'key-1').set('x-user', 'user-4').expect(429);
      await t.http().get('/data').set('x-user', 'user-1').expect(200);
    });
  });
});
