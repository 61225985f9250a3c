import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ADAPTERS } from '../support/http-app.js';
import { ADMIN_KEY, configFolder, startConfigApp, statuses, type ConfigApp } from './config-file.app.js';

const FILE = String.raw`
rules:
  - { name: default, limit: 2, windowMs: 1m, algorithm: fixed-window }
routes:
  - path: ^/towns
    methods: [GET]
    rules:
      - { name: towns, limit: 1, windowMs: 1s, algorithm: fixed-window }
      - { groups: [admin], unlimited: true }
  - path: ^/towns
    rules: []
  - path: ^/user/\d+
    rules:
      - { name: users, limit: 3, windowMs: 1m, zone: user-api, algorithm: fixed-window }
      - { name: partners, groups: [partner], limit: 5, windowMs: 1m, zone: user-api, algorithm: fixed-window }
  - path: ^/forests
    rules:
      - { name: forests, limit: 1, windowMs: 1m }
  - path: ^/skipped
    rules:
      - { name: skipped, limit: 1, windowMs: 1m }
excludePaths: [/health, /metrics, /docs, /redoc, /openapi.json]
escalation: false
`;

describe.each(ADAPTERS)('route rules from a configuration file on %s', (adapter) => {
  let t: ConfigApp;
  beforeAll(async () => {
    const folder = configFolder();
    folder.write(FILE);
    t = await startConfigApp(adapter, { configFile: { path: folder.path, watch: false, reloadSignal: false } });
  });
  afterAll(() => t.close());

  it('counts a request by the first entry that matches its method and path, per entry, replacing the handler’s rules', async () => {
    expect(await statuses(t, 2, '/towns', '198.51.100.1')).toEqual([200, 429]);
    // The same entry counts /towns/5: one pool per entry, whatever the handler.
    expect(await statuses(t, 1, '/towns/5', '198.51.100.1')).toEqual([429]);
    const response = await t.http().get('/towns').set('X-Forwarded-For', '198.51.100.2');
    expect(response.headers['ratelimit-policy']).toBe('"towns";q=1;w=1');
    // POST is not matched by the first entry (GET only): the second entry limits nothing.
    expect(await statuses(t, 4, '/towns', '198.51.100.1', {}, 'post')).toEqual([201, 201, 201, 201]);
    t.clock.advance(1_000);
    expect(await statuses(t, 1, '/towns', '198.51.100.1')).toEqual([200]);
  });

  it('never limits the group an entry leaves unlimited', async () => {
    expect(await statuses(t, 5, '/towns', '198.51.100.3', { 'X-Group': 'admin' })).toEqual([200, 200, 200, 200, 200]);
    // A client that is not in it is limited.
    expect(await statuses(t, 2, '/towns', '198.51.100.3', { 'X-Group': 'guest' })).toEqual([200, 429]);
  });

  it('shares one pool across the paths of a zone, per group', async () => {
    expect(await statuses(t, 2, '/user/1', '198.51.100.4')).toEqual([200, 200]);
    expect(await statuses(t, 2, '/user/2/posts', '198.51.100.4')).toEqual([200, 429]);
    expect(await statuses(t, 6, '/user/3', '198.51.100.5', { 'X-Group': 'partner' })).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('counts paths no entry matches by their handler’s rules: the file’s module rules', async () => {
    expect(await statuses(t, 3, '/other', '198.51.100.6')).toEqual([200, 200, 429]);
  });

  it('replaces a handler’s @Throttle, but counts no @SkipThrottle() route', async () => {
    expect(await statuses(t, 2, '/forests', '198.51.100.7')).toEqual([200, 429]);
    expect(await statuses(t, 4, '/skipped', '198.51.100.7')).toEqual([200, 200, 200, 200]);
  });

  it('neither counts nor checks excluded paths, not even for a banned client', async () => {
    expect(await statuses(t, 5, '/health', '198.51.100.8')).toEqual([200, 200, 200, 200, 200]);
    await t
      .http()
      .post('/rate-limit/bans')
      .set('Authorization', `Bearer ${ADMIN_KEY}`)
      .send({ key: '198.51.100.8', kind: 'permanent', reason: 'abuse' })
      .expect(201);
    expect(await statuses(t, 1, '/other', '198.51.100.8')).toEqual([403]);
    expect(await statuses(t, 2, '/health', '198.51.100.8')).toEqual([200, 200]);
    // Excluded means the path and what is under it, not every path that starts with its text.
    expect(await statuses(t, 1, '/healthz', '198.51.100.8')).toEqual([403]);
  });

  it('matches the percent-decoded path, as the router serves it', async () => {
    // Fastify's router decodes the path and serves /towns; Express's does not route it at all.
    expect(await statuses(t, 2, '/tow%6Es', '198.51.100.9')).toEqual(adapter === 'fastify' ? [200, 429] : [404, 404]);
  });

  it('counts a path written in another case, or with a trailing slash, by the entry its handler is counted by', async () => {
    // Express routes /TOWNS and /towns/ to the handler of /towns; Fastify routes neither (404).
    const served = adapter === 'express' ? 200 : 404;
    expect(await statuses(t, 1, '/TOWNS', '198.51.100.11')).toEqual([served]);
    expect(await statuses(t, 1, '/towns/', '198.51.100.11')).toEqual([adapter === 'express' ? 429 : 404]);
    expect(await statuses(t, 1, '/towns', '198.51.100.11')).toEqual([adapter === 'express' ? 429 : 200]);
  });

  it('refuses a path longer than route patterns are run on, rather than let it past every entry', async () => {
    const long = `/towns/${'9'.repeat(10_000)}`;
    const response = await t.http().get(long).set('X-Forwarded-For', '198.51.100.10');
    // Express: Rampart's 414; Fastify's router refuses a parameter over its maxParamLength itself (414).
    expect(response.status).toBe(414);
    if (adapter === 'express') expect(response.body).toMatchObject({ status: 414, title: 'URI Too Long' });
    // Within the limit, such a path is matched (and counted) as any other.
    expect(await statuses(t, 1, `/towns/${'9'.repeat(90)}`, '198.51.100.10')).toEqual([200]);
  });

  it('counts HEAD as the GET it is answered by, and an absolute-form target or a fragment by the path it holds', async () => {
    expect(await statuses(t, 1, '/towns', '198.51.100.12')).toEqual([200]);
    expect((await t.http().head('/towns').set('X-Forwarded-For', '198.51.100.12')).status).toBe(429);
    for (const target of ['http://rampart.test/towns', '/towns#x']) {
      const status = await rawStatus(t, target, '198.51.100.13');
      expect(status).toBe(target === 'http://rampart.test/towns' ? 200 : 429);
    }
  });
});

/** The status of a GET with `target` as its request target, written as it is on a socket of its own. */
async function rawStatus(t: ConfigApp, target: string, client: string): Promise<number> {
  const server = t.app.getHttpServer();
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: rampart.test\r\nX-Forwarded-For: ${client}\r\nConnection: close\r\n\r\n`),
    );
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])));
    socket.on('error', reject);
  });
}
