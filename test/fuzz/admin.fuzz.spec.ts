/**
 * Properties of the admin API under hostile input: whatever JSON body, query string or path a caller
 * sends to any endpoint, the answer is 2xx or 4xx (never 5xx), and nothing reaches a store that is
 * not a plain value of the expected type: no object where text is expected, no `$` operator key.
 * The stores are the real ones, behind a delegating recorder (see recording-storage.ts).
 */
import { Controller, Get, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import fc from 'fast-check';
import mongoose from 'mongoose';
import request from 'supertest';

import { RateLimitModule } from '../../lib/index.js';
import type { RampartStorage } from '../../lib/storage/rampart-storage.interface.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { anyText, encodeText, fuzzParams } from './fuzz-settings.js';
import { recordingStorage, type RecordingStorage } from './recording-storage.js';

const ADMIN_KEY = 'admin-key-for-fuzzing-0123456789';
const BEARER = `Bearer ${ADMIN_KEY}`;

@Controller()
class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

interface Variant {
  readonly name: string;
  readonly adapter: 'express' | 'fastify';
  readonly queryParser?: 'simple' | 'extended';
}

interface Running {
  readonly app: INestApplication;
  readonly recorder: RecordingStorage<RampartStorage>;
  http(): ReturnType<typeof request>;
}

async function start(variant: Variant, storage: RampartStorage): Promise<Running> {
  const recorder = recordingStorage(storage);
  const moduleRef = await Test.createTestingModule({
    imports: [
      RateLimitModule.forRoot({
        rules: [{ limit: 100, windowMs: 60_000, algorithm: 'fixed-window' }],
        clock: new FakeClock(),
        storage: recorder.storage,
        trustProxy: { proxies: ['loopback'] },
        adminApiKey: ADMIN_KEY,
        admin: {},
      }),
    ],
    controllers: [PingController],
  }).compile();
  const app =
    variant.adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
  if (variant.queryParser) (app as NestExpressApplication).set('query parser', variant.queryParser);
  await app.init();
  if (variant.adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return { app, recorder, http: () => request(app.getHttpServer()) };
}

// ---- hostile values -------------------------------------------------------------------------

const OPERATORS = ['$gt', '$gte', '$ne', '$in', '$nin', '$where', '$regex', '$exists', '$expr', '$or', '$function', '__proto__', 'constructor', 'prototype'];

const hugeString = fc
  .tuple(fc.constantFrom('a', '$', '\u00e9', '\ud83d\ude00', '\u0000', '%'), fc.integer({ min: 200, max: 150_000 }))
  .map(([c, n]) => c.repeat(n));

const operatorObject: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(fc.constantFrom(...OPERATORS), fc.jsonValue({ maxDepth: 2 }), {
  minKeys: 1,
  maxKeys: 3,
});

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: operatorObject },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.string(), operatorObject), { maxLength: 4 }) },
  { weight: 1, arbitrary: hugeString },
  { weight: 2, arbitrary: anyText(80) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      1e308,
      -0,
      '',
      ' ',
      '1',
      'permanent',
      'temporary',
      'allow',
      'deny',
      '::1',
      '10.0.0.0/8',
      '10.0.0.5/8',
      'fe80::1%eth0',
    ),
  },
  { weight: 1, arbitrary: fc.object({ maxDepth: 3, key: fc.oneof(fc.string(), fc.constantFrom(...OPERATORS)) }) },
);

/** Plausible values of each field, so that mutated bodies also get past validation sometimes. */
const validField: Record<string, fc.Arbitrary<unknown>> = {
  key: fc.oneof(fc.constantFrom('203.0.113.7', 'user-1', '2001:db8:1:2::/64', '$gt', 'a'.repeat(128)), fc.string({ minLength: 1, maxLength: 20 })),
  cidr: fc.oneof(fc.constantFrom('203.0.113.0/24', '198.51.100.7', '2001:db8::/48', '::ffff:10.0.0.0/104'), fc.ipV4()),
  kind: fc.constantFrom('permanent', 'temporary', 'allow', 'deny'),
  durationMs: fc.oneof(fc.integer({ min: 1000, max: 365 * 86_400_000 }), fc.integer()),
  reason: fc.string({ minLength: 1, maxLength: 40 }),
  note: fc.string({ maxLength: 40 }),
  expiresAtMs: fc.oneof(fc.constant(Date.UTC(2031, 0, 1)), fc.integer({ min: 0 }), fc.double()),
};
const FIELDS = Object.keys(validField);

/** Complete, valid bodies of each endpoint, to mutate. */
const banBody = fc.oneof(
  fc.record({ key: validField['key']!, kind: fc.constant('permanent'), reason: validField['reason']! }),
  fc.record({
    cidr: validField['cidr']!,
    kind: fc.constant('temporary'),
    durationMs: fc.integer({ min: 1000, max: 86_400_000 }),
    reason: validField['reason']!,
  }),
);
const accessBody = fc.record(
  { kind: fc.constantFrom('allow', 'deny'), cidr: validField['cidr']!, note: validField['note']!, expiresAtMs: fc.constant(Date.UTC(2031, 0, 1)) },
  { requiredKeys: ['kind', 'cidr'] },
);

const plausibleFields = fc
  .subarray(FIELDS)
  .chain((fields) =>
    fc.tuple(...fields.map((f) => validField[f]!.map((v) => [f, v] as const))).map((pairs) => Object.fromEntries(pairs) as Record<string, unknown>),
  );

/**
 * `valid` with up to two fields replaced by hostile values and up to two stray fields (`$where`,
 * `__proto__`...) added; often none, so that requests also get past validation to the stores.
 */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      valid,
      fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.constantFrom(...FIELDS), hostileValue), { maxLength: 2 })),
      fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.oneof(fc.constantFrom(...OPERATORS), fc.string({ maxLength: 10 })), hostileValue), { maxLength: 2 })),
    )
    .map(([fields, hostile, stray]) => {
      const body: Record<string, unknown> = {};
      // defineProperty: a `__proto__` field stays an own field and is sent.
      for (const [f, v] of [...Object.entries(fields), ...hostile, ...stray])
        Object.defineProperty(body, f, { value: v, enumerable: true, writable: true, configurable: true });
      return body;
    });
}

/** Any hostile body, whatever the endpoint. */
const anyBody: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: mutated(fc.oneof(banBody, accessBody, plausibleFields)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.array(mutated(plausibleFields), { maxLength: 3 }) },
  { weight: 1, arbitrary: operatorObject },
  { weight: 1, arbitrary: hugeString.map((s) => ({ key: s, kind: 'permanent', reason: s })) },
);

/** The body of a request to `path`: mostly the endpoint's own body, mutated. */
function bodyFor(path: string): fc.Arbitrary<unknown> {
  const own = path === '/bans' ? banBody : path === '/access-list' ? accessBody : plausibleFields;
  return fc.oneof({ weight: 3, arbitrary: mutated(own as fc.Arbitrary<Record<string, unknown>>) }, { weight: 2, arbitrary: anyBody });
}

// ---- hostile query strings and paths --------------------------------------------------------

const PARAMS = ['key', 'cidr', 'kind', 'source', 'active', 'limit', 'cursor', 'clearHistory', 'rule', 'from', 'to'];
const QUERY_PIECES = [
  'key[$gt]=',
  'key[$ne]=x',
  'key[]=a',
  'key[0]=a',
  'key[$where]=1',
  'cidr[$regex]=.*',
  'kind[$in][]=allow',
  'kind[$ne]=x',
  '__proto__[x]=1',
  'constructor[prototype][x]=1',
  'limit=1e3',
  'limit=-1',
  'limit=0',
  'limit=99999999999999999999',
  'limit[$gt]=0',
  'cursor=%',
  'cursor=%zz',
  'cursor=%E0%A4%A',
  'key=%00',
  'key=%C0%AF',
  'key=%FF%FE',
  'key=%ED%A0%80',
  'key=%F0%9F%98%80',
  'from=2030-13-45',
  'from=2030-01-01T00:00:00Z',
  'to=0',
  'from=5&to=5',
  'active=TRUE',
  'active=true',
  'active[]=true',
  'clearHistory=1',
  'clearHistory=true',
  'key=a&key=b',
  'cidr=10.0.0.0/8&cidr=10.0.0.0/8',
  'key=a&cidr=10.0.0.0/8',
  '&&&',
  '=',
  '==',
  'key',
  'source=auto',
  'kind=temporary',
  'rule=default',
  'rule[$regex]=.*',
];
/** ASCII a client can put raw in a request target: visible characters except `#`. */
const rawAscii = (maxLength: number) =>
  fc.string({
    unit: fc
      .integer({ min: 0x21, max: 0x7e })
      .filter((c) => c !== 0x23)
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });
const paramName = fc.oneof(
  fc.constantFrom(...PARAMS),
  fc.constantFrom(...PARAMS).map((p) => `${p}[${OPERATORS[p.length % OPERATORS.length]}]`),
  anyText(10).map(encodeText),
  rawAscii(10),
);
const paramValue = fc.oneof(
  fc.constantFrom('203.0.113.7', '203.0.113.0/24', 'permanent', 'allow', 'true', 'false', '10', '500', '501', 'AAAA', '1893456000000', '$gt', ''),
  anyText(60).map(encodeText),
  rawAscii(60),
  fc.integer({ min: 100, max: 12_000 }).map((n) => 'z'.repeat(n)),
);
const queryPiece = fc.oneof(
  fc.constantFrom(...QUERY_PIECES),
  fc.tuple(paramName, paramValue).map(([n, v]) => `${n}=${v}`),
  rawAscii(30),
);
const queryString: fc.Arbitrary<string> = fc.array(queryPiece, { maxLength: 6 }).map((pieces) => pieces.join('&'));

/** Valid queries of each endpoint, to which hostile pieces are added. */
const VALID_QUERIES: Readonly<Record<string, readonly string[]>> = {
  'get /bans': ['', 'kind=permanent', 'source=admin&active=true&limit=5', 'key=203.0.113.7', 'cidr=198.51.100.0/24&active=false'],
  'delete /bans': ['key=203.0.113.7', 'cidr=198.51.100.0/24', 'key=user-1&clearHistory=true', 'cidr=2001:db8::/48'],
  'get /violations': ['', 'key=203.0.113.7', 'rule=default&from=2029-12-31T00:00:00Z&to=1893456000000', 'limit=2'],
  'get /access-list': ['', 'kind=allow', 'kind=deny'],
  'delete /access-list': ['kind=allow&cidr=192.0.2.0/24', 'kind=deny&cidr=203.0.113.0/24', 'kind=allow&cidr=198.51.100.7'],
};

/** The query of a request to `method path`: a valid one with hostile pieces added, or any. */
function queryFor(method: Method, path: string): fc.Arbitrary<string> {
  const valid = VALID_QUERIES[`${method} ${path}`] ?? [''];
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(...valid), fc.oneof(fc.constant([]), fc.array(queryPiece, { minLength: 1, maxLength: 3 })), fc.boolean())
      .map(([base, extra, before]) => (before ? [...extra, base] : [base, ...extra]).filter((p) => p !== '').join('&')),
    queryString,
  );
}

/** A `/clients/:key` segment: encoded text of any kind, or raw garbage (never a path separator). */
const clientSegment: fc.Arbitrary<string> = fc
  .oneof(
    anyText(140).map(encodeText),
    rawAscii(40).map((s) => s.replace(/[/?]/g, '')),
    fc.constantFrom('%', '%zz', '%2F', '..', '%2e%2e', '%00', '%ED%A0%80', '$gt', '%24gt', 'key[$gt]', '__proto__', 'constructor', 'a'.repeat(129), '%20'),
  )
  .filter((s) => s.length > 0);

type Method = 'get' | 'post' | 'delete';
const QUERY_ENDPOINTS: ReadonlyArray<readonly [Method, string]> = [
  ['get', '/bans'],
  ['delete', '/bans'],
  ['get', '/violations'],
  ['get', '/access-list'],
  ['delete', '/access-list'],
  ['post', '/bans'],
  ['post', '/access-list'],
];
const BODY_ENDPOINTS: ReadonlyArray<readonly [Method, string]> = [
  ['post', '/bans'],
  ['post', '/access-list'],
  ['post', '/bans'],
  ['post', '/access-list'],
  ['delete', '/bans'],
  ['get', '/bans'],
];

// ---- the properties -------------------------------------------------------------------------

function defineProperties(label: string, variant: Variant, storage: () => RampartStorage, runs: number, onClose?: () => Promise<void>): void {
  describe(`admin API (property-based) on ${label}`, () => {
    let t: Running;

    beforeAll(async () => {
      t = await start(variant, storage());
      // Something to list and look up.
      const admin = (m: Method, path: string) => t.http()[m](`/rate-limit${path}`).set('Authorization', BEARER);
      await admin('post', '/bans').send({ key: '203.0.113.7', kind: 'permanent', reason: 'seed' }).expect(201);
      await admin('post', '/bans').send({ cidr: '198.51.100.0/24', kind: 'temporary', durationMs: 60_000, reason: 'seed' }).expect(201);
      await admin('post', '/access-list').send({ kind: 'allow', cidr: '192.0.2.0/24' }).expect(201);
      await t.http().get('/ping').set('X-Forwarded-For', '192.0.2.9').expect(200);
      t.recorder.problems.length = 0;
    });
    afterAll(async () => {
      await t.app.close();
      await onClose?.();
    });

    function expectSafe(status: number, what: string): void {
      const ok = (status >= 200 && status < 300) || (status >= 400 && status < 500);
      if (!ok) throw new Error(`${what} answered ${status}`);
      if (t.recorder.problems.length > 0) {
        const problems = t.recorder.problems.splice(0);
        throw new Error(`${what} reached a store with: ${problems.join('; ')}`);
      }
    }

    it('hostile JSON bodies: only 2xx/4xx, nothing but plain values reaches a store', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...BODY_ENDPOINTS).chain(([m, p]) => fc.tuple(fc.constant(m), fc.constant(p), bodyFor(p))),
          async ([method, path, body]) => {
            const res = await t
              .http()
              [method](`/rate-limit${path}`)
              .set('Authorization', BEARER)
              .set('Content-Type', 'application/json')
              .send(JSON.stringify(body));
            expectSafe(res.status, `${method.toUpperCase()} ${path} with ${JSON.stringify(body).slice(0, 200)}`);
          },
        ),
        fuzzParams(runs),
      );
    });

    it('hostile query strings: only 2xx/4xx, nothing but plain values reaches a store', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...QUERY_ENDPOINTS).chain(([m, p]) => fc.tuple(fc.constant(m), fc.constant(p), queryFor(m, p))),
          async ([method, path, qs]) => {
            const url = `/rate-limit${path}?${qs}`;
            const res = await t.http()[method](url).set('Authorization', BEARER);
            expectSafe(res.status, `${method.toUpperCase()} ${url.slice(0, 300)}`);
          },
        ),
        fuzzParams(runs),
      );
    });

    it('hostile client keys in the path: only 2xx/4xx, nothing but plain values reaches a store', async () => {
      await fc.assert(
        fc.asyncProperty(clientSegment, fc.option(queryString, { nil: undefined }), async (segment, qs) => {
          const url = `/rate-limit/clients/${segment}${qs === undefined ? '' : `?${qs}`}`;
          const res = await t.http().get(url).set('Authorization', BEARER);
          expectSafe(res.status, `GET ${url.slice(0, 300)}`);
        }),
        fuzzParams(runs),
      );
    });

    it('without credentials, hostile requests never reach a store', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...QUERY_ENDPOINTS), queryString, anyBody, async ([method, path], qs, body) => {
          const before = new Map(t.recorder.calls);
          const res = await t.http()[method](`/rate-limit${path}?${qs}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
          expect([401, 403, 413, 400, 431]).toContain(res.status);
          expectSafe(res.status, `${method.toUpperCase()} ${path} unauthenticated`);
          // The admin stores were not consulted. The rate-limit counters may be (admin routes are limited
          // too), and background work runs on its own timers: the ban sync reads changes, the
          // violation history is purged.
          for (const [call, n] of t.recorder.calls) {
            if (call.startsWith('rateLimits.') || call.endsWith('.changedSince') || call === 'violations.purge') continue;
            expect(`${call}: ${n}`).toBe(`${call}: ${before.get(call) ?? 0}`);
          }
        }),
        fuzzParams(Math.ceil(runs / 3)),
      );
    });
  });
}

describe('the delegating recorder', () => {
  it('passes calls on and records operator keys and objects where text or numbers are expected', async () => {
    const { storage, problems, calls } = recordingStorage(memoryStorage());
    await storage.bans.get({ type: 'key', key: 'k' });
    expect(problems).toEqual([]);
    await expect(storage.bans.get({ type: 'key', key: { $gt: '' } } as never)).rejects.toThrow(TypeError);
    await storage.violations.list({ key: 'k', $where: '1' } as never, { limit: 1 }).catch(() => undefined);
    await storage.violations.count(['k'] as never, 0).catch(() => undefined);
    await storage.accessList.list({ $ne: 'allow' } as never).catch(() => undefined);
    expect(problems).toEqual([
      'bans.get argument 0.key: expected a string, got object',
      "bans.get argument 0.key.$gt: key starting with '$'",
      "violations.list argument 0.$where: key starting with '$'",
      'violations.count argument 0: expected string, got array',
      'accessList.list argument 0: expected string?, got object',
      "accessList.list argument 0.$ne: key starting with '$'",
    ]);
    expect(calls.get('bans.get')).toBe(2);
  });
});

const VARIANTS: Variant[] = [
  { name: 'express (simple query parser)', adapter: 'express', queryParser: 'simple' },
  { name: 'express (extended query parser)', adapter: 'express', queryParser: 'extended' },
  { name: 'fastify', adapter: 'fastify' },
];

for (const variant of VARIANTS) defineProperties(`${variant.name}, memory storage`, variant, () => memoryStorage(), 120);

describeMongo('admin API (property-based) on the MongoDB storage', () => {
  const dbName = uniqueDbName('admin_fuzz');
  defineProperties(
    'express (extended query parser), MongoDB storage',
    VARIANTS[1]!,
    () => mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false }),
    60,
    async () => {
      const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
      await connection.dropDatabase();
      await connection.close();
    },
  );
});
