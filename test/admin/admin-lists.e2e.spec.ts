import { Controller, Get } from '@nestjs/common';
import { Throttle } from '../../lib/index.js';
import { ADAPTERS } from '../support/http-app.js';
import { BEARER, startAdminApp, type AdminTestApp } from './admin.app.js';

const START = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

@Controller()
class TightController {
  @Throttle({ name: 'tight', limit: 1, windowMs: 60_000 })
  @Get('tight')
  tight() {
    return 'ok';
  }
}

describe.each(ADAPTERS)('admin API: violations and allow/deny lists on %s', (adapter) => {
  let t: AdminTestApp;
  beforeEach(async () => {
    t = await startAdminApp(adapter, { controllers: [TightController] });
  });
  afterEach(() => t.close());

  const admin = {
    get: (path: string) => t.http().get(`/rate-limit${path}`).set('Authorization', BEARER),
    post: (path: string, body: object) => t.http().post(`/rate-limit${path}`).set('Authorization', BEARER).send(body),
    delete: (path: string) => t.http().delete(`/rate-limit${path}`).set('Authorization', BEARER),
  };
  const from = (ip: string, path = '/ping') => t.http().get(path).set('X-Forwarded-For', ip);

  async function record(key: string, rule: string, atMs: number) {
    await t.storage.violations.record({ key, rule, route: 'R.r', method: 'GET', hits: 2, limit: 1, atMs });
  }

  describe('violations', () => {
    it('lists what the guard recorded', async () => {
      await from('203.0.113.5', '/tight').expect(200);
      await from('203.0.113.5', '/tight').expect(429);
      const res = await admin.get('/violations').expect(200);
      expect(res.body).toEqual({
        items: [{ key: '203.0.113.5', rule: 'tight', route: 'TightController.tight', method: 'GET', hits: 2, limit: 1, at: iso(START) }],
      });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('filters by key, rule and time (ISO or epoch ms), newest first', async () => {
      await record('a', 'default', START);
      await record('a', 'login', START + MINUTE);
      await record('b', 'default', START + 2 * MINUTE);
      await record('a', 'default', START + 3 * MINUTE);
      const at = async (query: string) =>
        ((await admin.get(`/violations${query}`).expect(200)).body.items as { key: string; at: string }[]).map((v) => `${v.key}@${v.at.slice(11, 16)}`);
      expect(await at('')).toEqual(['a@00:03', 'b@00:02', 'a@00:01', 'a@00:00']);
      expect(await at('?key=a')).toEqual(['a@00:03', 'a@00:01', 'a@00:00']);
      expect(await at('?key=a&rule=default')).toEqual(['a@00:03', 'a@00:00']);
      expect(await at(`?from=${encodeURIComponent(iso(START + MINUTE))}`)).toEqual(['a@00:03', 'b@00:02', 'a@00:01']);
      expect(await at(`?from=${START + MINUTE}&to=${START + 3 * MINUTE}`)).toEqual(['b@00:02', 'a@00:01']);
      // `to` is exclusive: 01:02+01:00 is 00:02Z.
      expect(await at(`?to=${encodeURIComponent('2030-01-01T01:02:00+01:00')}`)).toEqual(['a@00:01', 'a@00:00']);
      expect(await at('?to=2030-01-01')).toEqual([]);
      expect(await at('?rule=nothing')).toEqual([]);
    });

    it('pages through violations with a cursor, each exactly once', async () => {
      for (let i = 0; i < 11; i++) await record(i % 2 ? 'odd' : 'even', 'default', START + Math.floor(i / 3)); // some share a millisecond
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const res = await admin.get(`/violations?limit=4${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
        sizes.push(res.body.items.length);
        seen.push(...res.body.items.map((v: { key: string; at: string }) => `${v.key}@${v.at}`));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(sizes).toEqual([4, 4, 3]);
      expect(seen).toHaveLength(11);
      expect(seen.filter((s) => s.startsWith('odd'))).toHaveLength(5);
      const times = seen.map((s) => s.split('@')[1]!);
      expect([...times].sort().reverse()).toEqual(times);
    });
  });

  describe('allow/deny lists', () => {
    it('adds, lists and removes entries, which the guard applies at once', async () => {
      t.clock.advance(5);
      const deny = await admin.post('/access-list', { kind: 'deny', cidr: '198.51.100.0/24', note: 'known bad' }).expect(201);
      expect(deny.body).toEqual({
        kind: 'deny',
        cidr: '198.51.100.0/24',
        active: true,
        note: 'known bad',
        createdBy: expect.stringMatching(/^api-key:/),
        createdAt: iso(START + 5),
        updatedAt: iso(START + 5),
      });
      const allow = await admin.post('/access-list', { kind: 'allow', cidr: '2001:DB8::7', expiresAtMs: START + MINUTE }).expect(201);
      expect(allow.body).toMatchObject({ kind: 'allow', cidr: '2001:db8::7/128', expiresAt: iso(START + MINUTE) });

      const denied = await from('198.51.100.20').expect(403);
      expect(denied.body).toMatchObject({ reason: 'deny-listed' });
      await from('198.51.101.20').expect(200);
      // Allow-listed: skips every rule (the tight one included).
      for (let i = 0; i < 3; i++) await from('2001:db8::7', '/tight').expect(200);
      const status = await admin.get(`/clients/${encodeURIComponent('2001:db8::/64')}`).expect(200);
      expect(status.body.status).toBe('none'); // the key is a network: lists match addresses
      const deniedStatus = await admin.get('/clients/198.51.100.20').expect(200);
      expect(deniedStatus.body).toMatchObject({ status: 'deny-listed', matchedEntry: { kind: 'deny', cidr: '198.51.100.0/24' } });

      expect((await admin.get('/access-list').expect(200)).body.items.map((e: { kind: string; cidr: string }) => `${e.kind} ${e.cidr}`)).toEqual([
        'allow 2001:db8::7/128',
        'deny 198.51.100.0/24',
      ]);
      expect((await admin.get('/access-list?kind=deny').expect(200)).body.items).toHaveLength(1);

      // The allow entry expires with the clock.
      t.clock.advance(MINUTE);
      expect((await admin.get('/access-list?kind=allow').expect(200)).body.items[0].active).toBe(false);

      await admin.delete('/access-list?kind=deny&cidr=198.51.100.0/24').expect(204);
      await from('198.51.100.20').expect(200);
      const missing = await admin.delete('/access-list?kind=deny&cidr=198.51.100.0/24').expect(404);
      expect(missing.body.detail).toBe('There is no deny-list entry for 198.51.100.0/24.');
      expect((await admin.get('/access-list').expect(200)).body.items).toHaveLength(1);
    });
  });
});
