import { ADAPTERS } from '../support/http-app.js';
import { BEARER, startAdminApp, type AdminTestApp } from './admin.app.js';

const START = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(ADAPTERS)('admin API: bans on %s', (adapter) => {
  let t: AdminTestApp;
  beforeEach(async () => {
    t = await startAdminApp(adapter);
  });
  afterEach(() => t.close());

  const admin = {
    get: (path: string) => t.http().get(`/rate-limit${path}`).set('Authorization', BEARER),
    post: (path: string, body: object) => t.http().post(`/rate-limit${path}`).set('Authorization', BEARER).send(body),
    delete: (path: string) => t.http().delete(`/rate-limit${path}`).set('Authorization', BEARER),
  };
  const from = (ip: string) => t.http().get('/ping').set('X-Forwarded-For', ip);

  it('bans a key permanently (403 on normal routes), shows it, and lifts it', async () => {
    await from('203.0.113.7').expect(200);
    const created = await admin.post('/bans', { key: '203.0.113.7', kind: 'permanent', reason: 'scraping' }).expect(201);
    expect(created.body).toEqual({
      id: 'key:203.0.113.7',
      key: '203.0.113.7',
      kind: 'permanent',
      active: true,
      source: 'admin',
      reason: 'scraping',
      createdBy: expect.stringMatching(/^api-key:[0-9a-f]{4}$/),
      createdAt: iso(START),
      violationCount: 0,
      blockCount: 0,
      updatedAt: iso(START),
    });

    const banned = await from('203.0.113.7').expect(403);
    expect(banned.body).toMatchObject({ status: 403, reason: 'banned' });
    await from('203.0.113.8').expect(200);

    const list = await admin.get('/bans').expect(200);
    expect(list.body).toEqual({ items: [created.body] });
    expect(list.headers['cache-control']).toBe('no-store');

    t.clock.advance(MINUTE);
    const lifted = await admin.delete('/bans?key=203.0.113.7').expect(200);
    expect(lifted.body).toEqual({
      ban: { ...created.body, active: false, liftedAt: iso(START + MINUTE), liftedBy: created.body.createdBy, updatedAt: iso(START + MINUTE) },
      historyCleared: false,
    });
    await from('203.0.113.7').expect(200);

    // Lifted: nothing in force any more.
    const again = await admin.delete('/bans?key=203.0.113.7').expect(404);
    expect(again.body).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'There is no ban in force for key "203.0.113.7". Add clearHistory=true to forget its violations and block count anyway.',
    });
    await admin.delete('/bans?key=198.51.100.1').expect(404);
    await admin.delete('/bans?cidr=10.0.0.0/8').expect(404);
  });

  it('blocks temporarily: 429 with Retry-After until the ban ends', async () => {
    const created = await admin.post('/bans', { key: '203.0.113.7', kind: 'temporary', durationMs: 10 * MINUTE, reason: 'cool down' }).expect(201);
    expect(created.body).toMatchObject({ kind: 'temporary', active: true, expiresAt: iso(START + 10 * MINUTE), blockCount: 1 });

    const blocked = await from('203.0.113.7').expect(429);
    expect(blocked.headers['retry-after']).toBe('600');
    expect(blocked.body).toMatchObject({ status: 429, blockedUntil: iso(START + 10 * MINUTE), retryAfterSeconds: 600 });
    t.clock.advance(9 * MINUTE);
    expect((await from('203.0.113.7').expect(429)).headers['retry-after']).toBe('60');

    t.clock.advance(MINUTE);
    await from('203.0.113.7').expect(200);
    const status = await admin.get('/clients/203.0.113.7').expect(200);
    expect(status.body).toMatchObject({ status: 'none', ban: { kind: 'temporary', active: false, blockCount: 1 } });
  });

  it('bans an IPv4 range: clients inside it are refused, those outside are not', async () => {
    await admin.post('/bans', { cidr: '203.0.113.0/24', kind: 'permanent', reason: 'botnet' }).expect(201);
    await from('203.0.113.1').expect(403);
    await from('203.0.113.254').expect(403);
    await from('::ffff:203.0.113.9').expect(403);
    await from('203.0.112.255').expect(200);
    await from('203.0.114.0').expect(200);

    const status = await admin.get('/clients/203.0.113.77').expect(200);
    expect(status.body).toMatchObject({ status: 'banned', matchedBan: { id: 'cidr:203.0.113.0/24', cidr: '203.0.113.0/24' }, ban: null });

    const filtered = await admin.get('/bans?cidr=203.0.113.0/24').expect(200);
    expect(filtered.body.items.map((b: { id: string }) => b.id)).toEqual(['cidr:203.0.113.0/24']);
    await admin.delete('/bans?cidr=203.0.113.0/24').expect(200);
    await from('203.0.113.1').expect(200);
  });

  it('bans an IPv6 range, written in any spelling', async () => {
    const created = await admin.post('/bans', { cidr: '2001:DB8:1:0::/48', kind: 'temporary', durationMs: MINUTE, reason: 'v6 abuse' }).expect(201);
    expect(created.body).toMatchObject({ id: 'cidr:2001:db8:1::/48', cidr: '2001:db8:1::/48' });
    await from('2001:db8:1:2::1').expect(429);
    await from('2001:db8:1:ffff:ffff::9').expect(429);
    await from('2001:db8:2::1').expect(200);
    await from('2001:db9::1').expect(200);
    await from('203.0.113.1').expect(200);
    await admin.delete('/bans?cidr=2001:db8:1::/48').expect(200);
    await from('2001:db8:1:2::1').expect(200);
  });

  it('bans an IPv6 client key (its /64) without touching its neighbours', async () => {
    await admin.post('/bans', { key: '2001:db8:1:2::/64', kind: 'permanent', reason: 'one network' }).expect(201);
    await from('2001:db8:1:2::abcd').expect(403);
    await from('2001:db8:1:3::1').expect(200);
    const status = await admin.get(`/clients/${encodeURIComponent('2001:db8:1:2::/64')}`).expect(200);
    expect(status.body).toMatchObject({ key: '2001:db8:1:2::/64', status: 'banned', ban: { key: '2001:db8:1:2::/64' } });
  });

  it('shows a client: verdict, ban record, recent violations and live counters', async () => {
    await from('198.51.100.1').expect(200);
    await from('198.51.100.1').expect(200);
    await t.storage.violations.record({
      key: '198.51.100.1',
      rule: 'default',
      route: 'PingController.ping',
      method: 'GET',
      hits: 101,
      limit: 100,
      atMs: START,
    });

    const res = await admin.get('/clients/198.51.100.1').expect(200);
    expect(res.body).toEqual({
      key: '198.51.100.1',
      status: 'none',
      ban: null,
      recentViolations: 1,
      latestViolations: [{ key: '198.51.100.1', rule: 'default', route: 'PingController.ping', method: 'GET', hits: 101, limit: 100, at: iso(START) }],
      counters: [{ rule: 'default', route: 'PingController.ping', limit: 100, remaining: 98, resetAt: iso(START + MINUTE) }],
    });

    const unknown = await admin.get('/clients/someone-else').expect(200);
    expect(unknown.body).toEqual({ key: 'someone-else', status: 'none', ban: null, recentViolations: 0, latestViolations: [], counters: [] });
  });

  it('replaces a ban of the same target, and counts blocks', async () => {
    await admin.post('/bans', { key: 'user-42', kind: 'temporary', durationMs: MINUTE, reason: 'first' }).expect(201);
    t.clock.advance(2 * MINUTE);
    const second = await admin.post('/bans', { key: 'user-42', kind: 'temporary', durationMs: 1_000, reason: 'second' }).expect(201);
    expect(second.body).toMatchObject({ reason: 'second', blockCount: 2, expiresAt: iso(START + 2 * MINUTE + 1_000) });
    const permanent = await admin.post('/bans', { key: 'user-42', kind: 'permanent', reason: 'third' }).expect(201);
    expect(permanent.body).toMatchObject({ kind: 'permanent', blockCount: 2 });
    expect(permanent.body.expiresAt).toBeUndefined();
    expect((await admin.get('/bans').expect(200)).body.items).toHaveLength(1);
  });

  it('clears the history on request: violations go and the block count is forgotten', async () => {
    for (let i = 0; i < 3; i++) {
      await t.storage.violations.record({ key: 'user-7', rule: 'default', route: 'R.r', method: 'GET', hits: 2, limit: 1, atMs: START + i });
    }
    await admin.post('/bans', { key: 'user-7', kind: 'temporary', durationMs: MINUTE, reason: 'r' }).expect(201);
    t.clock.advance(2 * MINUTE);
    // The block has ended; without clearHistory there is nothing to lift.
    await admin.delete('/bans?key=user-7').expect(404);
    const cleared = await admin.delete('/bans?key=user-7&clearHistory=true').expect(200);
    expect(cleared.body).toMatchObject({ ban: { key: 'user-7', violationCount: 3, blockCount: 0 }, historyCleared: true });
    expect(await t.storage.violations.count('user-7', 0)).toBe(0);
    // The record stays, lifted, so that every other instance sees the change.
    expect(await t.storage.bans.get({ type: 'key', key: 'user-7' })).toMatchObject({ blockCount: 0, liftedBy: expect.any(String) });
    await admin.delete('/bans?key=user-7&clearHistory=true').expect(200);
    await admin.delete('/bans?key=nobody&clearHistory=true').expect(404);
  });

  it('filters by kind, source, target and whether in force', async () => {
    await admin.post('/bans', { key: 'a', kind: 'permanent', reason: 'r' }).expect(201);
    await admin.post('/bans', { key: 'b', kind: 'temporary', durationMs: MINUTE, reason: 'r' }).expect(201);
    await admin.post('/bans', { key: 'c', kind: 'permanent', reason: 'r' }).expect(201);
    await admin.delete('/bans?key=c').expect(200);
    await t.storage.bans.put(
      {
        target: { type: 'key', key: 'd' },
        kind: 'temporary',
        reason: 'auto',
        source: 'auto',
        createdBy: 'rampart',
        expiresAtMs: START + 10 * MINUTE,
        violationCount: 3,
      },
      START,
    );
    t.clock.advance(2 * MINUTE); // b has expired

    const ids = async (query: string) => ((await admin.get(`/bans${query}`).expect(200)).body.items as { key: string }[]).map((b) => b.key).sort();
    expect(await ids('')).toEqual(['a', 'b', 'c', 'd']);
    expect(await ids('?kind=permanent')).toEqual(['a', 'c']);
    expect(await ids('?source=auto')).toEqual(['d']);
    expect(await ids('?source=admin&kind=temporary')).toEqual(['b']);
    expect(await ids('?key=b')).toEqual(['b']);
    expect(await ids('?active=true')).toEqual(['a', 'd']);
    expect(await ids('?active=false')).toEqual(['b', 'c']);
    expect(await ids('?active=false&kind=permanent')).toEqual(['c']);
  });

  it('pages through bans with a cursor, each ban exactly once', async () => {
    for (let i = 0; i < 7; i++) {
      await admin.post('/bans', { key: `client-${i}`, kind: 'permanent', reason: `r${i}` }).expect(201);
      if (i % 2 === 0) t.clock.advance(1); // some bans share a time: ties are broken by id
    }
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const res = await admin.get(`/bans?limit=3${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      sizes.push(res.body.items.length);
      seen.push(...res.body.items.map((b: { key: string }) => b.key));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([3, 3, 1]);
    expect([...seen].sort()).toEqual(['client-0', 'client-1', 'client-2', 'client-3', 'client-4', 'client-5', 'client-6']);
    // Most recently changed first.
    expect(seen[0]).toBe('client-6');

    const all = await admin.get('/bans?limit=500').expect(200);
    expect(all.body.items).toHaveLength(7);
    expect(all.body.nextCursor).toBeUndefined();
  });

  it('pages through ended bans only, with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      await admin.post('/bans', { key: `k${i}`, kind: 'permanent', reason: 'r' }).expect(201);
      if (i < 3) await admin.delete(`/bans?key=k${i}`).expect(200);
      t.clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await admin.get(`/bans?active=false&limit=2${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((b: { key: string }) => b.key));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen.sort()).toEqual(['k0', 'k1', 'k2']);
  });
});
