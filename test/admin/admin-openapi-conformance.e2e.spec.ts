import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ADAPTERS } from '../support/http-app.js';
import { BEARER, startAdminApp, type AdminTestApp } from './admin.app.js';

/**
 * The OpenAPI document says what the admin API does: the values its schemas allow are the values
 * validation accepts, and every answer fits the schema documented for its status. Each case below
 * is one a Schemathesis run (scripts/schemathesis.mjs) found answered otherwise.
 */

type Schema = {
  type?: string;
  $ref?: string;
  anyOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
};
type Operation = {
  parameters?: { name: string; in: string; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
};

describe.each(ADAPTERS)('admin API answers as its OpenAPI document says, on %s', (adapter) => {
  let t: AdminTestApp;
  let document: OpenAPIObject;

  beforeAll(async () => {
    t = await startAdminApp(adapter);
    document = SwaggerModule.createDocument(t.app, new DocumentBuilder().addBearerAuth().build());
  });
  afterAll(() => t.close());

  const operation = (path: string, method: string) => (document.paths[`/rate-limit${path}`] as Record<string, Operation>)[method]!;
  const resolve = (schema: Schema): Schema =>
    schema.$ref ? resolve((document.components!.schemas as Record<string, Schema>)[schema.$ref.split('/').pop()!]!) : schema;
  const parameter = (path: string, method: string, name: string) => operation(path, method).parameters!.find((p) => p.name === name)!.schema;
  const bodyProperty = (path: string, name: string) => resolve(operation(path, 'post').requestBody!.content['application/json']!.schema).properties![name]!;

  /** The string constraints of a schema (the only ones these parameters have). */
  const allows = (schema: Schema, value: string): boolean =>
    schema.type === 'string' &&
    [...value].length >= (schema.minLength ?? 0) &&
    [...value].length <= (schema.maxLength ?? Infinity) &&
    (schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(value));

  /** Enough of OpenAPI 3.0 schemas for the admin views: $ref, anyOf, allOf, nullable, objects, arrays, strings, numbers, booleans. */
  const conforms = (value: unknown, schema: Schema): boolean => {
    const s = resolve(schema);
    if (value === null) return s.nullable === true;
    if (s.anyOf) return s.anyOf.some((option) => conforms(value, option));
    if (s.allOf && !s.allOf.every((part) => conforms(value, part))) return false;
    switch (s.type) {
      case 'string':
        return typeof value === 'string';
      case 'integer':
        return Number.isInteger(value);
      case 'number':
        return typeof value === 'number';
      case 'boolean':
        return typeof value === 'boolean';
      case 'array':
        return Array.isArray(value) && value.every((item) => conforms(item, s.items ?? {}));
      case 'object': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
        const record = value as Record<string, unknown>;
        return (
          (s.required ?? []).every((name) => name in record) &&
          Object.entries(s.properties ?? {}).every(([name, property]) => record[name] === undefined || conforms(record[name], property))
        );
      }
      default:
        return true;
    }
  };
  /** The schema documented for a status: of `mediaType`, else of the problem details (application/problem+json), else of application/json. */
  const responseSchema = (path: string, method: string, status: number, mediaType?: string) => {
    const content = operation(path, method).responses[String(status)]!.content!;
    return (mediaType ? content[mediaType] : (content['application/problem+json'] ?? content['application/json']))!.schema;
  };

  describe('a client key', () => {
    const CASES: [string, string, boolean][] = [
      ['an address', '203.0.113.7', true],
      ['an IPv6 /64 key', '2001:db8:1:2::/64', true],
      ['a custom identity with spaces and symbols', 'user 42 (éè) #a?b', true],
      ['128 characters', 'k'.repeat(128), true],
      ['a control character (found: GET /clients/%F2%A7%9A%A1%C2%B4%1DJ)', '\u{1e6a1}\u00b4\u001dJ', false],
      ['DEL', 'a\u007fb', false],
      ['an empty key (found: GET /bans?key=)', '', false],
      ['129 characters', 'k'.repeat(129), false],
    ];

    it('has the same constraints wherever it is a parameter or a body property', () => {
      const schemas = [
        parameter('/bans', 'get', 'key'),
        parameter('/bans', 'delete', 'key'),
        parameter('/violations', 'get', 'key'),
        parameter('/clients/{key}', 'get', 'key'),
        bodyProperty('/bans', 'key'),
      ];
      for (const schema of schemas)
        expect(schema).toEqual(expect.objectContaining({ type: 'string', minLength: 1, maxLength: 128, pattern: expect.any(String) }));
    });

    it.each(CASES)('%s: documented as allowed exactly when the API accepts it', async (_name, key, valid) => {
      expect(allows(parameter('/bans', 'get', 'key'), key)).toBe(valid);
      expect(allows(parameter('/clients/{key}', 'get', 'key'), key)).toBe(valid);
      const list = await t.http().get('/rate-limit/bans').query({ key }).set('Authorization', BEARER);
      expect(list.status).toBe(valid ? 200 : 400);
      if (key !== '') {
        const client = await t
          .http()
          .get(`/rate-limit/clients/${encodeURIComponent(key)}`)
          .set('Authorization', BEARER);
        // Fastify's router refuses longer path parameters itself (maxParamLength, 100 by default).
        const status = adapter === 'fastify' && key.length > 100 ? 414 : valid ? 200 : 400;
        expect(client.status).toBe(status);
        expect(conforms(client.body, responseSchema('/clients/{key}', 'get', status))).toBe(true);
      }
    });

    if (adapter === 'fastify') {
      it('is admitted up to 128 characters in the path with the maxParamLength the document advises', async () => {
        expect(JSON.stringify(operation('/clients/{key}', 'get').responses['414'])).toContain('maxParamLength: 128');
        const wide = await startAdminApp('fastify', { fastifyOptions: { maxParamLength: 128 } });
        try {
          await wide
            .http()
            .get(`/rate-limit/clients/${'k'.repeat(128)}`)
            .set('Authorization', BEARER)
            .expect(200);
          // Longer than any client key: still Fastify's documented 414.
          await wide
            .http()
            .get(`/rate-limit/clients/${'k'.repeat(129)}`)
            .set('Authorization', BEARER)
            .expect(414);
        } finally {
          await wide.close();
        }
      });
    }
  });

  describe('an address or range', () => {
    it.each([
      ['an IPv4 range', '203.0.113.0/24', true],
      ['an IPv6 range', '2001:db8::/48', true],
      ['the unspecified IPv6 address', '::', true],
      ['an empty cidr (found: DELETE /access-list?kind=deny&cidr=)', '', false],
      ['a zone id', 'fe80::1%eth0', false],
      ['a trailing space', '203.0.113.7 ', false],
      ['65 characters', '1'.repeat(65), false],
    ])('%s: refused by the API whenever the document refuses it', async (_name, cidr, allowed) => {
      for (const schema of [
        parameter('/bans', 'get', 'cidr'),
        parameter('/access-list', 'delete', 'cidr'),
        bodyProperty('/access-list', 'cidr'),
        bodyProperty('/bans', 'cidr'),
      ]) {
        expect(allows(schema, cidr)).toBe(allowed);
      }
      const response = await t.http().get('/rate-limit/bans').query({ cidr }).set('Authorization', BEARER);
      expect(response.status).toBe(allowed ? 200 : 400);
    });
  });

  it('documents the cursor, rule and time formats the API checks', async () => {
    for (const [path, name, refused] of [
      ['/bans', 'cursor', ''],
      ['/violations', 'cursor', 'a.b'],
      ['/violations', 'rule', 'a b'],
      ['/violations', 'from', 'yesterday'],
      ['/violations', 'to', '2030-01-01T00:00:00'],
    ] as const) {
      expect(allows(parameter(path, 'get', name), refused)).toBe(false);
      const response = await t
        .http()
        .get(`/rate-limit${path}`)
        .query({ [name]: refused })
        .set('Authorization', BEARER);
      expect(response.status).toBe(400);
    }
    expect(allows(parameter('/violations', 'get', 'from'), '2030-01-01T00:00:00Z')).toBe(true);
    expect(allows(parameter('/violations', 'get', 'to'), '1893456000000')).toBe(true);
    expect(allows(parameter('/violations', 'get', 'rule'), 'login.v2')).toBe(true);
  });

  it('gives examples that make a valid request together (found: GET /violations?from=2030-01-01T00:00:00Z&to=1893456000000, the same instant)', async () => {
    const examples = Object.fromEntries(
      operation('/violations', 'get')
        .parameters!.filter((p) => p.name === 'from' || p.name === 'to')
        .map((p) => [p.name, (p.schema as { example?: string }).example]),
    );
    expect(Object.keys(examples).sort()).toEqual(['from', 'to']);
    await t.http().get('/rate-limit/violations').query(examples).set('Authorization', BEARER).expect(200);
  });

  describe('a body that is not JSON (found: POST /bans with the body "AAA")', () => {
    it.each([
      ['/bans', '"AAA"'],
      ['/bans', '{"key":'],
      ['/access-list', 'not json'],
    ])('POST %s %s: a 400 that fits the documented 400', async (path, body) => {
      const response = await t.http().post(`/rate-limit${path}`).set('Authorization', BEARER).set('Content-Type', 'application/json').send(body);
      expect(response.status).toBe(400);
      // The app's body parser answers application/json; a body it reads (Fastify reads "AAA") meets validation: problem details.
      const mediaType = String(response.headers['content-type']).split(';')[0]!;
      expect(mediaType).toMatch(/^application\/(problem\+)?json$/);
      expect(conforms(response.body, responseSchema(path, 'post', 400, mediaType))).toBe(true);
    });

    it("is documented as the app's own error shape besides the problem details", () => {
      for (const path of ['/bans', '/access-list']) {
        // One schema per media type: the problem details, and the app's own error as application/json.
        const schemas = Object.values(operation(path, 'post').responses['400']!.content!).map(({ schema }) => schema);
        expect(schemas.map((option) => option.$ref)).toEqual(['#/components/schemas/AdminProblemView', '#/components/schemas/AdminAppErrorView']);
        expect(Object.keys(operation(path, 'post').responses['400']!.content!)).toEqual(['application/problem+json', 'application/json']);
      }
      expect(resolve({ $ref: '#/components/schemas/AdminAppErrorView' }).required).toEqual(['statusCode', 'message']);
      // Operations without a body keep the problem details alone.
      expect(responseSchema('/bans', 'get', 400)).toEqual({ $ref: '#/components/schemas/AdminProblemView' });
    });
  });

  describe('the statistics (GET /stats)', () => {
    it('answers figures that fit the documented 200, after traffic of every kind', async () => {
      await t.http().get('/ping').set('X-Forwarded-For', '198.51.100.9').expect(200);
      const response = await t.http().get('/rate-limit/stats').set('Authorization', BEARER).expect(200);
      expect(response.body.requests).toBeGreaterThan(0);
      expect(conforms(response.body, responseSchema('/stats', 'get', 200))).toBe(true);
      const required = resolve(responseSchema('/stats', 'get', 200)).required ?? [];
      expect(required).toEqual(expect.arrayContaining(['fleet', 'windowMs', 'requests', 'blockRate', 'topKeys', 'instances', 'recentViolations']));
      expect(required).not.toContain('instance');
      const instance = response.body.instances[0].instance as string;
      expect(allows(parameter('/stats', 'get', 'instance'), instance)).toBe(true);
      const own = await t.http().get('/rate-limit/stats').query({ instance }).set('Authorization', BEARER).expect(200);
      expect(conforms(own.body, responseSchema('/stats', 'get', 200))).toBe(true);
    });

    it.each([
      ['windowMs', '999', 400],
      ['windowMs', '1000', 200],
      ['windowMs', 'x', 400],
      ['instance', 'nobody:1:00', 404],
      ['instance', 'a\u0000b', 400],
      ['instance', 'i'.repeat(201), 400],
    ])('%s=%s: %i, in the documented shape, as the documented constraints say', async (name, value, status) => {
      const schema = parameter('/stats', 'get', name) as Schema & { minimum?: number };
      if (name === 'instance') expect(allows(schema, value)).toBe(status !== 400);
      else expect(schema).toMatchObject({ type: 'integer', minimum: 1_000 });
      const response = await t
        .http()
        .get('/rate-limit/stats')
        .query({ [name]: value })
        .set('Authorization', BEARER);
      expect(response.status).toBe(status);
      expect(conforms(response.body, responseSchema('/stats', 'get', status))).toBe(true);
    });
  });

  it('answers validation errors with the documented problem details', async () => {
    const response = await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ kind: 'permanent', reason: 'x', key: '' });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(conforms(response.body, responseSchema('/bans', 'post', 400))).toBe(true);
    expect(conforms(response.body, { $ref: '#/components/schemas/AdminProblemView' })).toBe(true);
  });
});
