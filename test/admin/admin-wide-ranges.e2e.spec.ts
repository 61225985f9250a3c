/**
 * A ban or an allow/deny-list entry wider than /8 (IPv4) or /32 (IPv6) is refused unless the request
 * says `force: true`: `0.0.0.0/0` on the deny-list answers every client 403, on the allow-list
 * exempts every client from every rule. The same rule holds for RateLimitService's methods.
 */
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { RateLimitService } from '../../lib/index.js';
import { ADAPTERS } from '../support/http-app.js';
import { BEARER, startAdminApp, type AdminTestApp } from './admin.app.js';

/** Too wide, each written as the operator might: the message names the canonical range. */
const TOO_WIDE: [string, string][] = [
  ['0.0.0.0/0', '0.0.0.0/0'],
  ['::/0', '::/0'],
  ['10.0.0.0/7', '10.0.0.0/7'],
  ['2001::/31', '2001::/31'],
  ['::ffff:0.0.0.0/96', '0.0.0.0/0'],
];
/** The widest accepted without force. */
const WIDEST = ['10.0.0.0/8', '2001:db8::/32'];

describe.each(ADAPTERS)('admin API: ranges too wide on %s', (adapter) => {
  let t: AdminTestApp;
  beforeEach(async () => {
    t = await startAdminApp(adapter);
  });
  afterEach(() => t.close());

  const admin = (path: string, body: object) => t.http().post(`/rate-limit${path}`).set('Authorization', BEARER).send(body);

  it.each(TOO_WIDE)('refuses a ban and both lists for %s with 400 unless force: true', async (cidr, canonical) => {
    for (const [path, body] of [
      ['/bans', { cidr, kind: 'permanent', reason: 'typo' }],
      ['/access-list', { kind: 'deny', cidr }],
      ['/access-list', { kind: 'allow', cidr }],
    ] as const) {
      const res = await admin(path, body).expect(400);
      expect(res.body.errors).toEqual([
        expect.stringMatching(new RegExp(`^cidr ${canonical.replace(/[.]/g, '\\.')} is wider than /(8|32), .*set force: true`)),
      ]);
    }
    expect(await t.storage.bans.list({}, { limit: 10 })).toEqual({ items: [] });
    expect(await t.storage.accessList.list()).toEqual([]);
  });

  it('accepts a wide range with force: true, and /8 or /32 without it', async () => {
    for (const cidr of WIDEST) await admin('/bans', { cidr, kind: 'permanent', reason: 'botnet' }).expect(201);
    for (const cidr of WIDEST) await admin('/access-list', { kind: 'deny', cidr, force: false }).expect(201);
    await admin('/access-list', { kind: 'deny', cidr: '0.0.0.0/0', force: true }).expect(201);
    await t.http().get('/ping').set('X-Forwarded-For', '192.0.2.1').expect(403);
    await admin('/bans', { cidr: '::/0', kind: 'temporary', durationMs: 60_000, reason: 'drill', force: true }).expect(201);
    await t.http().get('/ping').set('X-Forwarded-For', '2001:db9::1').expect(429);
  });

  it('refuses a force that is not a boolean', async () => {
    const res = await admin('/bans', { cidr: '0.0.0.0/0', kind: 'permanent', reason: 'typo', force: 'true' }).expect(400);
    expect(res.body.errors).toContain('force must be true or false');
  });

  it('holds RateLimitService to the same rule, with { force: true } to override', async () => {
    const service = t.app.get(RateLimitService);
    await expect(service.ban({ type: 'cidr', cidr: '0.0.0.0/0' }, 'permanent', undefined, 'typo', 'ops')).rejects.toThrow(
      /^target\.cidr 0\.0\.0\.0\/0 is wider than \/8, .*Narrow the range, or set force: true/,
    );
    await expect(service.putAccessEntry('allow', '::/0', 'ops')).rejects.toThrow(RangeError);
    await expect(service.putAccessEntry('allow', '::/0', 'ops')).rejects.toThrow('cidr ::/0 is wider than /32');
    expect(await t.storage.accessList.list()).toEqual([]);
    await service.ban({ type: 'cidr', cidr: '0.0.0.0/0' }, 'permanent', undefined, 'drill', 'ops', { force: true });
    await service.putAccessEntry('allow', '::/0', 'ops', { force: true });
    await service.putAccessEntry('deny', '198.51.100.0/24', 'ops');
    expect(await t.storage.accessList.list()).toHaveLength(2);
  });
});

describe('admin API OpenAPI document: force', () => {
  it('documents force on both bodies, and the /8 and /32 bounds on their cidr', async () => {
    const t = await startAdminApp('express');
    try {
      const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
      const schemas = document.components!.schemas as Record<
        string,
        { properties: Record<string, { type?: string; description?: string; default?: unknown }> }
      >;
      for (const body of ['CreateBanBody', 'CreateAccessEntryBody']) {
        expect(schemas[body]!.properties['force']).toMatchObject({ type: 'boolean', default: false, description: expect.stringContaining('0.0.0.0/0') });
        expect(schemas[body]!.properties['cidr']!.description).toContain('wider than /8 (IPv4) or /32 (IPv6)');
      }
    } finally {
      await t.close();
    }
  });
});
