import { ADAPTERS } from '../support/http-app.js';
import { BEARER, startAdminApp } from '../admin/admin.app.js';
import { cliTarget, requireBuiltCli } from './cli.js';

const MINUTE = 60_000;

requireBuiltCli();
// Each test runs the CLI a few times, a Node process each: on a busy machine that takes seconds.
jest.setTimeout(30_000);

describe.each(ADAPTERS)('rampart bans and lists against a running app on %s', (adapter) => {
  const target = cliTarget(() => startAdminApp(adapter));
  const { cli } = target;
  const from = (ip: string) => target.t.http().get('/ping').set('X-Forwarded-For', ip);
  const adminGet = (path: string) => target.t.http().get(`/rate-limit${path}`).set('Authorization', BEARER);
  const adminPost = (path: string, body: object) => target.t.http().post(`/rate-limit${path}`).set('Authorization', BEARER).send(body);
  const adminDelete = (path: string) => target.t.http().delete(`/rate-limit${path}`).set('Authorization', BEARER);

  it('bans add: the client is refused (403); bans list shows the ban; bans remove: the client is admitted again', async () => {
    await from('203.0.113.7').expect(200);
    expect(await cli('bans', 'add', '203.0.113.7', '--reason', 'scraping')).toEqual({
      code: 0,
      stdout: 'banned 203.0.113.7 permanently: scraping\n',
      stderr: '',
    });
    await from('203.0.113.7').expect(403);
    const stored = (await adminGet('/bans?key=203.0.113.7').expect(200)).body.items;
    expect(stored).toEqual([expect.objectContaining({ key: '203.0.113.7', kind: 'permanent', source: 'admin', reason: 'scraping', active: true })]);

    const [listed, json] = await Promise.all([cli('bans', 'list'), cli('bans', 'list', '--json')]);
    expect(listed.code).toBe(0);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^TARGET\s+KIND\s+SOURCE\s+CREATED\s+EXPIRES\s+BLOCKS\s+REASON$/);
    expect(rows).toEqual([expect.stringMatching(/^203\.0\.113\.7\s+permanent\s+admin\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+never\s+0\s+scraping$/)]);
    expect(JSON.parse(json.stdout)).toEqual(stored);

    expect(await cli('bans', 'remove', '203.0.113.7')).toEqual({ code: 0, stdout: 'lifted the ban of 203.0.113.7\n', stderr: '' });
    await from('203.0.113.7').expect(200);
    const [active, all] = await Promise.all([cli('bans', 'list', '--target', '203.0.113.7'), cli('bans', 'list', '--all', '--target', '203.0.113.7')]);
    expect(active.stdout).toBe('no bans in force\n');
    expect(all.stdout.split('\n')[1]).toMatch(/^203\.0\.113\.7\s+permanent\s+admin\s+lifted\s/);
  });

  it('bans add --duration: a temporary ban (429 with Retry-After) that ends on its own', async () => {
    const added = await cli('bans', 'add', '198.51.100.9', '--duration', '15m', '--reason', 'cool down', '--json');
    expect(added.code).toBe(0);
    const ban = JSON.parse(added.stdout);
    expect(ban).toMatchObject({
      key: '198.51.100.9',
      kind: 'temporary',
      active: true,
      reason: 'cool down',
      expiresAt: new Date(target.t.clock.now() + 15 * MINUTE).toISOString(),
    });
    const blocked = await from('198.51.100.9').expect(429);
    expect(blocked.headers['retry-after']).toBe('900');
    const text = await cli('bans', 'list', '--target', '198.51.100.9');
    expect(text.stdout).toMatch(/198\.51\.100\.9\s+temporary\s+admin\s+\S+ \S+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+1\s+cool down\n$/);
    target.t.clock.advance(15 * MINUTE);
    await from('198.51.100.9').expect(200);
    expect((await cli('bans', 'list', '--target', '198.51.100.9')).stdout).toBe('no bans in force\n');
  });

  it('bans add and remove a CIDR range; --clear-history says the history is gone', async () => {
    const added = await cli('bans', 'add', '192.0.2.0/24', '--duration', '1h');
    expect(added.stdout).toMatch(/^banned 192\.0\.2\.0\/24 for 1h \(until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\): banned with the rampart CLI\n$/);
    await from('192.0.2.55').expect(429);
    const removed = await cli('bans', 'remove', '192.0.2.0/24', '--clear-history', '--json');
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ ban: expect.objectContaining({ cidr: '192.0.2.0/24', active: false }), historyCleared: true });
    await from('192.0.2.55').expect(200);
  });

  it('a range wider than /8 needs --force: refused with the validation error on one line, then accepted', async () => {
    const refused = await cli('bans', 'add', '10.0.0.0/7');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^error: invalid request: .*cidr.*force.*\n$/);
    expect((await cli('bans', 'add', '10.0.0.0/7', '--force')).code).toBe(0);
    await from('10.1.2.3').expect(403);
    await adminDelete('/bans?cidr=10.0.0.0/7').expect(200);
  });

  it('bans remove of a client without a ban: exit 1 and the admin API problem detail', async () => {
    expect(await cli('bans', 'remove', '203.0.113.99')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: There is no ban in force for key "203.0.113.99", and no history to clear.\n',
    });
  });

  it('lists add deny: the client is refused (403); lists show; lists remove: admitted again', async () => {
    expect(await cli('lists', 'add', 'deny', '198.51.100.0/24', '--reason', 'abuse')).toEqual({
      code: 0,
      stdout: 'added 198.51.100.0/24 to the deny-list\n',
      stderr: '',
    });
    await from('198.51.100.20').expect(403);
    const shown = await cli('lists', 'show', 'deny');
    expect(shown.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^LIST\s+CIDR\s+STATE\s+EXPIRES\s+BY\s+NOTE$/),
      expect.stringMatching(/^deny\s+198\.51\.100\.0\/24\s+active\s+never\s+api-key:[0-9a-f]{4}\s+abuse$/),
    ]);
    expect(await cli('lists', 'remove', 'deny', '198.51.100.0/24')).toEqual({ code: 0, stdout: 'removed 198.51.100.0/24 from the deny-list\n', stderr: '' });
    await from('198.51.100.20').expect(200);
    expect((await cli('lists', 'show', 'deny')).stdout).toBe('the deny-list is empty\n');
    expect(await cli('lists', 'remove', 'deny', '198.51.100.0/24')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^error: .*198\.51\.100\.0\/24.*\n$/),
    });
  });

  it('lists add allow: an allow-listed client passes its ban; lists show --json is the admin API list', async () => {
    await adminPost('/bans', { key: '203.0.113.20', kind: 'permanent', reason: 'test' }).expect(201);
    await from('203.0.113.20').expect(403);
    expect((await cli('lists', 'add', 'allow', '203.0.113.20')).stdout).toBe('added 203.0.113.20/32 to the allow-list\n');
    await from('203.0.113.20').expect(200);
    const json = await cli('lists', 'show', '--json');
    expect(JSON.parse(json.stdout)).toEqual((await adminGet('/access-list').expect(200)).body.items);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ kind: 'allow', cidr: '203.0.113.20/32', active: true })]);
    await adminDelete('/access-list?kind=allow&cidr=203.0.113.20').expect(204);
    await adminDelete('/bans?key=203.0.113.20').expect(200);
  });

  it('lists add --duration: the entry applies until it expires', async () => {
    target.t.clock.set(Date.now());
    const before = Date.now();
    const added = await cli('lists', 'add', 'deny', '203.0.113.30', '--duration', '1h', '--json');
    const after = Date.now();
    const entry = JSON.parse(added.stdout);
    expect(entry).toMatchObject({ kind: 'deny', cidr: '203.0.113.30/32', active: true });
    // An hour from when the CLI ran, by this machine's clock.
    expect(Date.parse(entry.expiresAt)).toBeGreaterThanOrEqual(before + 60 * MINUTE);
    expect(Date.parse(entry.expiresAt)).toBeLessThanOrEqual(after + 60 * MINUTE);
    await from('203.0.113.30').expect(403);
    target.t.clock.set(Date.parse(entry.expiresAt));
    await from('203.0.113.30').expect(200);
    expect((await cli('lists', 'show')).stdout).toMatch(/^deny\s+203\.0\.113\.30\/32\s+expired\s+/m);
    await adminDelete('/access-list?kind=deny&cidr=203.0.113.30').expect(204);
  });
});
