import type { MemoryStorage } from '../../lib/storage/memory-storage.js';
import type { AdapterName } from '../support/http-app.js';
import { BEARER, startAdminApp, type AdminTestApp } from './admin.app.js';

const START = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;

type Method = 'get' | 'post' | 'delete';
/** [name, method, path under /rate-limit, body (for POST), what the answer must say]. */
type HostileCase = [string, Method, string, unknown, string | RegExp];

const BAN = { key: '203.0.113.7', kind: 'permanent', reason: 'abuse' };
const TEMPORARY = { key: '203.0.113.7', kind: 'temporary', durationMs: 60_000, reason: 'abuse' };

/** Refused by validation before any store is asked. */
const HOSTILE: HostileCase[] = [
  // Query strings
  ['limit of 0', 'get', '/bans?limit=0', undefined, 'limit must not be less than 1'],
  ['limit above 500', 'get', '/bans?limit=501', undefined, 'limit must not be greater than 500'],
  ['limit not a number', 'get', '/bans?limit=ten', undefined, 'limit must be an integer number'],
  ['limit with a fraction', 'get', '/violations?limit=1.5', undefined, 'limit must be an integer number'],
  ['limit given twice', 'get', '/bans?limit=1&limit=2', undefined, 'limit must be an integer number'],
  ['an operator in a query key', 'get', '/bans?key[$gt]=', undefined, /key\[\$gt\] should not exist|key must be a client key/],
  ['an operator in a query source', 'get', '/bans?source[$ne]=auto', undefined, /source\[\$ne\] should not exist|source must be one of/],
  ['a regex operator in a rule filter', 'get', '/violations?rule[$regex]=.*', undefined, /rule\[\$regex\] should not exist|rule must be/],
  ['a key given twice', 'get', '/bans?key=a&key=b', undefined, 'key must be a client key'],
  ['an unknown kind', 'get', '/bans?kind=forever', undefined, 'kind must be one of the following values: permanent, temporary'],
  ['active neither true nor false', 'get', '/bans?active=yes', undefined, 'active must be true or false'],
  ['a cursor that is not base64url', 'get', '/bans?cursor=%25%25', undefined, 'cursor must be the nextCursor of a previous page, unchanged'],
  ['an unknown query field', 'get', '/bans?sort=-createdAt', undefined, 'property sort should not exist'],
  ['both key and cidr in a filter', 'get', '/bans?key=a&cidr=10.0.0.0/8', undefined, 'give key or cidr, not both'],
  ['a range with host bits set', 'get', '/bans?cidr=10.0.0.5/8', undefined, /has host bits set: write the network 10\.0\.0\.0\/8/],
  ['a time that is not one', 'get', '/violations?from=yesterday', undefined, 'from must be an ISO 8601 time'],
  ['a time without zone', 'get', '/violations?to=2030-01-01T00:00:00', undefined, 'to must be an ISO 8601 time'],
  ['a negative time', 'get', '/violations?from=-5', undefined, 'from must be an ISO 8601 time'],
  ['clearHistory neither true nor false', 'delete', '/bans?key=a&clearHistory=maybe', undefined, 'clearHistory must be true or false'],
  ['a lift without target', 'delete', '/bans', undefined, 'give exactly one of key (a client key) or cidr'],
  ['a lift of key and cidr', 'delete', '/bans?key=a&cidr=10.0.0.0/8', undefined, 'give key or cidr, not both'],
  ['a list removal without cidr', 'delete', '/access-list?kind=allow', undefined, 'cidr must be a string holding an IP address'],
  ['an unknown list kind', 'get', '/access-list?kind=grey', undefined, 'kind must be one of the following values: allow, deny'],
  ['a client key too long', 'get', `/bans?key=${'k'.repeat(129)}`, undefined, 'key must be a client key of 1 to 128 characters'],
  ['a client key with a control character', 'get', '/clients/a%00b', undefined, 'key must be a client key'],
  // JSON bodies
  ['an operator object for a key', 'post', '/bans', { key: { $gt: '' }, kind: 'permanent', reason: 'x' }, 'key must be a client key'],
  ['an operator object for a cidr', 'post', '/bans', { cidr: { $ne: null }, kind: 'permanent', reason: 'x' }, 'cidr must be a string holding an IP address'],
  ['an array for a key', 'post', '/bans', { key: ['a', 'b'], kind: 'permanent', reason: 'x' }, 'key must be a client key'],
  ['both key and cidr', 'post', '/bans', { ...BAN, cidr: '10.0.0.0/8' }, 'give key or cidr, not both'],
  ['neither key nor cidr', 'post', '/bans', { kind: 'permanent', reason: 'x' }, 'give exactly one of key (a client key) or cidr'],
  ['a null key', 'post', '/bans', { ...BAN, key: null }, 'give exactly one of key (a client key) or cidr'],
  ['an empty key', 'post', '/bans', { ...BAN, key: '' }, 'key must be a client key of 1 to 128 characters'],
  ['an unknown ban kind', 'post', '/bans', { ...BAN, kind: 'eternal' }, 'kind must be one of the following values: permanent, temporary'],
  [
    'a temporary ban without duration',
    'post',
    '/bans',
    { ...TEMPORARY, durationMs: undefined },
    'durationMs is required for a temporary ban (1000 to 31536000000 milliseconds)',
  ],
  ['a duration under a second', 'post', '/bans', { ...TEMPORARY, durationMs: 999 }, 'durationMs must not be less than 1000'],
  ['a duration over a year', 'post', '/bans', { ...TEMPORARY, durationMs: 365 * DAY + 1 }, 'durationMs must not be greater than 31536000000'],
  ['a duration as text', 'post', '/bans', { ...TEMPORARY, durationMs: '60000' }, 'durationMs must be an integer number'],
  ['a fractional duration', 'post', '/bans', { ...TEMPORARY, durationMs: 1500.5 }, 'durationMs must be an integer number'],
  ['a duration on a permanent ban', 'post', '/bans', { ...BAN, durationMs: 60_000 }, 'durationMs is only for temporary bans'],
  ['an empty reason', 'post', '/bans', { ...BAN, reason: '' }, 'reason must be longer than or equal to 1 characters'],
  ['a reason over 500 characters', 'post', '/bans', { ...BAN, reason: 'x'.repeat(501) }, 'reason must be shorter than or equal to 500 characters'],
  ['a reason that is an object', 'post', '/bans', { ...BAN, reason: { toString: 'x' } }, 'reason must be a string'],
  ['no reason', 'post', '/bans', { key: 'a', kind: 'permanent' }, 'reason must be a string'],
  ['an unknown body field', 'post', '/bans', { ...BAN, createdBy: 'someone-else' }, 'property createdBy should not exist'],
  ['an IPv6 zone id', 'post', '/bans', { cidr: 'fe80::1%eth0', kind: 'permanent', reason: 'x' }, "cidr must not carry an IPv6 zone id ('%eth0')"],
  ['an IPv4 address out of range', 'post', '/bans', { cidr: '300.1.2.3', kind: 'permanent', reason: 'x' }, 'cidr must be an IP address or a CIDR range'],
  ['an octal IPv4 address', 'post', '/bans', { cidr: '010.1.2.3', kind: 'permanent', reason: 'x' }, 'cidr must be an IP address or a CIDR range'],
  ['an IPv6 prefix over 128', 'post', '/bans', { cidr: '2001:db8::/129', kind: 'permanent', reason: 'x' }, 'cidr: the prefix length must be 0 to 128'],
  ['a prefix that is not a number', 'post', '/bans', { cidr: '10.0.0.0/eight', kind: 'permanent', reason: 'x' }, "cidr has no valid prefix length after '/'"],
  ['a hostname for a cidr', 'post', '/bans', { cidr: 'example.com', kind: 'permanent', reason: 'x' }, 'cidr must be an IP address or a CIDR range'],
  ['an array body', 'post', '/bans', [BAN], 'property 0 should not exist'],
  ['a list entry of unknown kind', 'post', '/access-list', { kind: 'maybe', cidr: '10.0.0.0/8' }, 'kind must be one of the following values: allow, deny'],
  ['a list entry with a bad prefix', 'post', '/access-list', { kind: 'allow', cidr: '10.0.0.0/33' }, 'cidr: the prefix length must be 0 to 32'],
  [
    'a list entry expiring "tomorrow"',
    'post',
    '/access-list',
    { kind: 'allow', cidr: '10.0.0.0/8', expiresAtMs: 'tomorrow' },
    'expiresAtMs must be an integer number',
  ],
  ['a list entry with a null note', 'post', '/access-list', { kind: 'allow', cidr: '10.0.0.0/8', note: null }, 'note must be a string'],
];

/** Refused by the service after validation (so it asks no store for the request's data). */
const REFUSED_LATER: HostileCase[] = [
  ['a time range ending before it starts', 'get', '/violations?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', undefined, 'from must be earlier than to.'],
  [
    'a list entry that has already expired',
    'post',
    '/access-list',
    { kind: 'deny', cidr: '10.0.0.0/8', expiresAtMs: START - 1 },
    'expiresAtMs must be in the future',
  ],
];

/** Refused by the store the admin API asked: still a 400. */
const BAD_CURSORS: HostileCase[] = [
  [
    'a ban cursor no store made',
    'get',
    `/bans?cursor=${Buffer.from('not a cursor').toString('base64url')}`,
    undefined,
    'cursor is not one this endpoint returned',
  ],
  [
    'a violation cursor no store made',
    'get',
    `/violations?cursor=${Buffer.from('[1,2,3]').toString('base64url')}`,
    undefined,
    'cursor is not one this endpoint returned',
  ],
];

const STORE_METHODS: Record<'bans' | 'violations' | 'accessList', string[]> = {
  bans: ['put', 'lift', 'get', 'list', 'remove'],
  violations: ['list', 'count', 'deleteByKey'],
  accessList: ['put', 'remove', 'list'],
};

function spyOnStores(storage: MemoryStorage): jest.SpyInstance[] {
  return Object.entries(STORE_METHODS).flatMap(([part, methods]) =>
    methods.map((method) => jest.spyOn(storage[part as keyof typeof STORE_METHODS] as unknown as Record<string, () => unknown>, method)),
  );
}

const SETUPS: [string, AdapterName, 'simple' | 'extended' | undefined][] = [
  ['express', 'express', undefined],
  ['express with the extended query parser', 'express', 'extended'],
  ['fastify', 'fastify', undefined],
];

describe.each(SETUPS)('admin API input validation on %s', (_name, adapter, expressQueryParser) => {
  let t: AdminTestApp;
  let stores: jest.SpyInstance[];

  beforeAll(async () => {
    t = await startAdminApp(adapter, { ...(expressQueryParser ? { expressQueryParser } : {}), options: { banSyncIntervalMs: 3_600_000 } });
  });
  afterAll(() => t.close());
  beforeEach(() => {
    stores = spyOnStores(t.storage);
  });
  afterEach(() => jest.restoreAllMocks());

  function send(method: Method, path: string, body: unknown) {
    const req = t.http()[method](`/rate-limit${path}`).set('Authorization', BEARER);
    return body === undefined ? req : req.send(body as object);
  }

  async function expectProblem(method: Method, path: string, body: unknown, says: string | RegExp) {
    const res = await send(method, path, body);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 400, body: { type: 'about:blank', title: 'Bad Request', status: 400 } });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.detail).toEqual(typeof says === 'string' ? expect.stringContaining(says) : expect.stringMatching(says));
    return res;
  }

  it(`has at least 20 hostile cases (${HOSTILE.length + REFUSED_LATER.length + BAD_CURSORS.length})`, () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(20);
  });

  it.each(HOSTILE)('refuses %s with 400, before any store is asked', async (_case, method, path, body, says) => {
    const res = await expectProblem(method, path, body, says);
    expect(res.body.errors.length).toBeGreaterThan(0);
    for (const spy of stores) expect(spy).not.toHaveBeenCalled();
  });

  it.each(REFUSED_LATER)('refuses %s with 400', async (_case, method, path, body, says) => {
    await expectProblem(method, path, body, says);
    for (const spy of stores) expect(spy).not.toHaveBeenCalled();
  });

  it.each(BAD_CURSORS)('refuses %s with 400', async (_case, method, path, body, says) => {
    await expectProblem(method, path, body, says);
  });

  it('lists every problem of a request at once', async () => {
    const res = await expectProblem('post', '/bans', { key: 7, kind: 'x', reason: '', extra: true }, 'The request is invalid:');
    expect(res.body.errors).toEqual([
      'property extra should not exist',
      'key must be a client key of 1 to 128 characters without control characters (longer identities are named by their sha256:... form, as in violations)',
      'kind must be one of the following values: permanent, temporary',
      'reason must be longer than or equal to 1 characters',
    ]);
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const res = await t.http().post('/rate-limit/bans').set('Authorization', BEARER).set('Content-Type', 'application/json').send('{"key": ');
    expect(res.status).toBe(400);
  });

  it('treats operator-looking text as plain text', async () => {
    await send('post', '/bans', { key: '{"$gt":""}', kind: 'permanent', reason: '$where: 1' }).expect(201);
    const res = await send('get', `/bans?key=${encodeURIComponent('{"$gt":""}')}`, undefined).expect(200);
    expect(res.body.items).toHaveLength(1);
    expect((await send('get', '/bans?key=%24gt', undefined).expect(200)).body.items).toEqual([]);
    await send('delete', `/bans?key=${encodeURIComponent('{"$gt":""}')}&clearHistory=true`, undefined).expect(200);
  });

  it('ignores a __proto__ field instead of letting it reach the ban', async () => {
    const res = await t
      .http()
      .post('/rate-limit/bans')
      .set('Authorization', BEARER)
      .set('Content-Type', 'application/json')
      .send('{"key":"proto-test","kind":"permanent","reason":"r","__proto__":{"kind":"temporary"}}');
    expect([201, 400]).toContain(res.status);
    if (res.status === 201) expect(res.body.kind).toBe('permanent');
    expect(({} as Record<string, unknown>)['kind']).toBeUndefined();
    await send('delete', '/bans?key=proto-test&clearHistory=true', undefined);
  });
});
