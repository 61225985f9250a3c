import { Logger, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { CreateBanBody } from '../../lib/admin/dto/ban.dto.js';
import { AdminBanView } from '../../lib/admin/dto/views.dto.js';
import { ADAPTERS } from '../support/http-app.js';
import { BEARER, startAdminApp, type AdminTestApp } from './admin.app.js';

// As in an app without @nestjs/swagger: loading it fails the way a missing package does.
jest.mock('@nestjs/swagger', () => {
  throw Object.assign(new Error("Cannot find module '@nestjs/swagger'"), { code: 'MODULE_NOT_FOUND' });
});

const swaggerKeys = (target: object, property?: string) =>
  (property === undefined ? Reflect.getMetadataKeys(target) : Reflect.getMetadataKeys(target, property)).filter((key: unknown) =>
    String(key).startsWith('swagger/'),
  );

describe.each(ADAPTERS)('admin API without @nestjs/swagger on %s', (adapter) => {
  let t: AdminTestApp;
  let warnings: jest.SpyInstance;
  beforeEach(async () => {
    warnings = jest.spyOn(Logger.prototype, 'warn');
    t = await startAdminApp(adapter);
  });
  afterEach(async () => {
    await t.close();
    jest.restoreAllMocks();
  });

  it('works the same, silently, and carries no swagger metadata', async () => {
    await expect(import('@nestjs/swagger')).rejects.toThrow('Cannot find module');
    const created = await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ key: 'k', kind: 'permanent', reason: 'r' }).expect(201);
    expect(created.body.createdBy).toMatch(/^api-key:/);
    const invalid = await t.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ key: 'k', kind: 'never' }).expect(400);
    expect(invalid.body.errors).toEqual(['kind must be one of the following values: permanent, temporary', 'reason must be a string']);

    for (const type of [CreateBanBody, AdminBanView]) {
      expect(swaggerKeys(type)).toEqual([]);
      expect(swaggerKeys(type.prototype)).toEqual([]);
      expect(swaggerKeys(type.prototype, 'kind')).toEqual([]);
    }
    const controller = t.app
      .get(DiscoveryService)
      .getControllers()
      .find((w) => w.name === 'RateLimitAdminController')!.metatype as Type<unknown>;
    expect(swaggerKeys(controller)).toEqual([]);
    expect(swaggerKeys((controller.prototype as Record<string, object>)['listBans']!)).toEqual([]);
    expect(warnings.mock.calls.filter(([message]) => String(message).includes('swagger'))).toEqual([]);
  });
});
