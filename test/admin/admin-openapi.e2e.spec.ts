import type { Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ADAPTERS } from '../support/http-app.js';
import { BEARER, OperatorHeaderGuard, isOperator, startAdminApp, type AdminTestApp } from './admin.app.js';

type Operation = {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
  summary?: string;
  security?: unknown;
};

describe.each(ADAPTERS)('admin API OpenAPI document on %s (with @nestjs/swagger installed)', (adapter) => {
  let t: AdminTestApp;
  let document: OpenAPIObject;

  beforeAll(async () => {
    t = await startAdminApp(adapter, { admin: { path: 'ops/rate-limit' } });
    document = SwaggerModule.createDocument(t.app, new DocumentBuilder().setTitle('app').addBearerAuth().build());
  });
  afterAll(() => t.close());

  const operation = (path: string, method: string) => (document.paths[path] as Record<string, Operation> | undefined)?.[method];
  const parameters = (path: string, method: string) =>
    (operation(path, method)?.parameters ?? []).map((p) => `${p.in}:${p.name}${p.required ? '!' : ''}`).sort();

  it('describes every admin endpoint', () => {
    const admin = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/ops/rate-limit'))
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(admin).toEqual([
      'DELETE /ops/rate-limit/access-list',
      'DELETE /ops/rate-limit/bans',
      'GET /ops/rate-limit/access-list',
      'GET /ops/rate-limit/bans',
      'GET /ops/rate-limit/clients/{key}',
      'GET /ops/rate-limit/config',
      'GET /ops/rate-limit/stats',
      'GET /ops/rate-limit/violations',
      'POST /ops/rate-limit/access-list',
      'POST /ops/rate-limit/bans',
      'POST /ops/rate-limit/config/reload',
    ]);
    expect(operation('/ops/rate-limit/bans', 'get')?.summary).toBe('List bans');
    expect(operation('/ops/rate-limit/bans', 'post')?.security).toEqual([{ bearer: [] }]);

    // The metadata the no-swagger suite checks is absent is indeed what swagger reads.
    const controller = t.app
      .get(DiscoveryService)
      .getControllers()
      .find((w) => w.name === 'RateLimitAdminController')!.metatype as Type<unknown>;
    expect(Reflect.getMetadataKeys((controller.prototype as Record<string, object>)['listBans']!)).toContain('swagger/apiOperation');
  });

  it('describes queries, parameters, bodies and responses', () => {
    expect(parameters('/ops/rate-limit/bans', 'get')).toEqual([
      'query:active',
      'query:cidr',
      'query:cursor',
      'query:key',
      'query:kind',
      'query:limit',
      'query:source',
    ]);
    expect(parameters('/ops/rate-limit/bans', 'delete')).toEqual(['query:cidr', 'query:clearHistory', 'query:key']);
    expect(parameters('/ops/rate-limit/violations', 'get')).toEqual(['query:cursor', 'query:from', 'query:key', 'query:limit', 'query:rule', 'query:to']);
    expect(parameters('/ops/rate-limit/clients/{key}', 'get')).toEqual(['path:key!']);
    expect(parameters('/ops/rate-limit/stats', 'get')).toEqual(['query:instance', 'query:windowMs']);
    expect(Object.keys(operation('/ops/rate-limit/stats', 'get')!.responses).sort()).toEqual(['200', '400', '401', '403', '404', '503']);
    expect(parameters('/ops/rate-limit/access-list', 'delete')).toEqual(['query:cidr!', 'query:kind!']);

    expect(operation('/ops/rate-limit/bans', 'post')?.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateBanBody' } } },
    });
    expect(Object.keys(operation('/ops/rate-limit/bans', 'post')!.responses).sort()).toEqual(['201', '400', '401', '403', '503']);
    expect(Object.keys(operation('/ops/rate-limit/bans', 'delete')!.responses).sort()).toEqual(['200', '400', '401', '403', '404', '503']);

    const schemas = document.components?.schemas as Record<string, { properties: Record<string, { enum?: string[]; type?: string }>; required?: string[] }>;
    expect(Object.keys(schemas.CreateBanBody!.properties).sort()).toEqual(['cidr', 'durationMs', 'force', 'key', 'kind', 'reason']);
    expect(schemas.CreateBanBody!.required?.sort()).toEqual(['kind', 'reason']);
    expect(schemas.CreateBanBody!.properties.kind!.enum).toEqual(['permanent', 'temporary']);
    expect(Object.keys(schemas.AdminBanView!.properties)).toEqual(
      expect.arrayContaining(['id', 'key', 'cidr', 'kind', 'active', 'createdAt', 'expiresAt', 'blockCount']),
    );
    expect(schemas.AdminBanPage!.properties).toMatchObject({ items: { type: 'array' }, nextCursor: { type: 'string' } });
    expect(Object.keys(schemas.AdminClientView!.properties)).toEqual(expect.arrayContaining(['status', 'ban', 'latestViolations', 'counters', 'adaptive']));
    expect(schemas.AdminClientView!.required).not.toContain('adaptive');
    expect(Object.keys(schemas.AdminAdaptiveView!.properties).sort()).toEqual(
      [
        'anomaly',
        'baseLimit',
        'baseline',
        'currentZScore',
        'deviation',
        'effectiveLimit',
        'intervalMs',
        'intervalStart',
        'refused',
        'requestsInInterval',
        'route',
        'rule',
        'samples',
        'trust',
        'variance',
        'zScore',
      ].sort(),
    );
    expect(schemas.AdminProblemView).toBeDefined();
    expect(Object.keys(schemas.AdminStatsView!.properties).sort()).toEqual(
      [
        'admitted',
        'bansMade',
        'blockRate',
        'blocked',
        'blocksMade',
        'banned',
        'fleet',
        'from',
        'instance',
        'instances',
        'limited',
        'recentViolations',
        'requests',
        'shadow',
        'to',
        'topKeys',
        'topRules',
        'unavailable',
        'violations',
        'violationsPerMinute',
        'windowMs',
      ].sort(),
    );
    expect(schemas.AdminStatsView!.properties['recentViolations']).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/AdminViolationView' } });
    expect(Object.keys(schemas.AdminShadowStatsView!.properties).sort()).toEqual(['banned', 'blocked', 'limited', 'violations']);
    expect(Object.keys(schemas.AdminInstanceStatsView!.properties).sort()).toEqual([
      'host',
      'instance',
      'pid',
      'refused',
      'reportedAt',
      'requests',
      'startedAt',
    ]);
  });

  it('still answers as before', async () => {
    await t.http().get('/ops/rate-limit/bans').set('Authorization', BEARER).expect(200);
  });
});

describe("admin API OpenAPI document with the app's guard", () => {
  it('does not claim Bearer authentication', async () => {
    const t = await startAdminApp('express', { admin: { guard: OperatorHeaderGuard, authorize: isOperator }, options: { adminApiKey: undefined } });
    try {
      const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
      expect((document.paths['/rate-limit/bans'] as Record<string, { security?: unknown }>)['get']?.security).toBeUndefined();
      expect(Object.keys(document.paths).filter((p) => p.startsWith('/rate-limit'))).toHaveLength(7);
    } finally {
      await t.close();
    }
  });
});
