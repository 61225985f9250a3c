import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { RateLimitAdminModule } from '../../lib/admin/index.js';
import { DASHBOARD_FILES, DASHBOARD_FOLDER, DASHBOARD_PAGE, loadDashboardAssets } from '../../lib/admin/dashboard-assets.js';
import { RateLimitConfigurationError, RateLimitModule } from '../../lib/index.js';
import { ADMIN_KEY, BEARER, startAdminApp, type AdminTestApp } from '../admin/admin.app.js';
import { ADAPTERS, startApp } from '../support/http-app.js';
import { DASHBOARD_OPTIONS } from './dashboard.app.js';

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml; charset=utf-8',
};
const urlOf = (name: string, prefix = '/rate-limit') => (name === DASHBOARD_PAGE ? `${prefix}/dashboard` : `${prefix}/dashboard/${name}`);

describe.each(ADAPTERS)('admin dashboard routes on %s', (adapter) => {
  let t: AdminTestApp | undefined;
  afterEach(() => t?.close());
  const start = (scenario: Parameters<typeof startAdminApp>[1] = {}) =>
    startAdminApp(adapter, { admin: { dashboard: true }, ...scenario, options: { ...DASHBOARD_OPTIONS, ...scenario.options } }).then((app) => (t = app));

  it('serves the page and each of its files without credentials, with their content types and security headers', async () => {
    await start();
    for (const name of DASHBOARD_FILES) {
      const response = await t!.http().get(urlOf(name)).expect(200);
      expect(response.headers['content-type']).toBe(CONTENT_TYPES[name.split('.').pop()!]);
      expect(response.headers).toMatchObject({
        'content-security-policy': expect.stringContaining("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'"),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
      expect(response.headers['content-security-policy']).toContain("base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
      expect(response.headers['www-authenticate']).toBeUndefined();
      expect(response.text ?? response.body.toString()).toBe(readFileSync(join(DASHBOARD_FOLDER, name), 'utf8'));
    }
  });

  it('serves nothing else under it', async () => {
    await start();
    for (const path of ['nope.js', 'index.html', '..%2Fadmin.controller.ts', '%2e%2e', 'app.js/x', 'app.JS', 'constructor', '__proto__']) {
      await t!.http().get(`/rate-limit/dashboard/${path}`).expect(404);
    }
    // The page loads its files relative to `/rate-limit/dashboard`: from `dashboard/` they would miss.
    const slash = await t!.http().get('/rate-limit/dashboard/');
    if (adapter === 'express') expect(slash).toMatchObject({ status: 308, headers: { location: '../dashboard' } });
    else expect(slash.status).toBe(404);
  });

  it('is not rate limited, and no ban or list entry keeps an operator from it', async () => {
    await start();
    const from = (client: string, path: string) => t!.http().get(path).set('X-Forwarded-For', client);
    expect((await t!.http().post('/rate-limit/bans').set('Authorization', BEARER).send({ key: '203.0.113.7', kind: 'permanent', reason: 'r' })).status).toBe(
      201,
    );
    expect((await t!.http().post('/rate-limit/access-list').set('Authorization', BEARER).send({ kind: 'deny', cidr: '198.51.100.0/24' })).status).toBe(201);
    for (const client of ['203.0.113.7', '198.51.100.9']) {
      await from(client, '/ping').expect(403);
      await from(client, '/rate-limit/dashboard').expect(200);
    }
    // Far over the rule's 3 a minute, and none of it counted.
    for (let i = 0; i < 10; i++) await from('192.0.2.1', urlOf(DASHBOARD_FILES[i % DASHBOARD_FILES.length]!)).expect(200);
    expect((await from('192.0.2.1', '/ping').expect(200)).headers['ratelimit']).toMatch(/r=2/);
  });

  it('follows the admin path, and exists only when asked for', async () => {
    await start({ admin: { path: 'ops/limits', dashboard: true } });
    await t!.http().get('/ops/limits/dashboard').expect(200);
    await t!.http().get('/ops/limits/dashboard/app.js').expect(200);
    await t!.http().get('/rate-limit/dashboard').expect(404);
    await t!.close();

    for (const admin of [{}, { dashboard: false }]) {
      await start({ admin });
      await t!.http().get('/rate-limit/dashboard').expect(404);
      await t!.http().get('/rate-limit/dashboard/app.js').expect(404);
      await t!.http().get('/rate-limit/bans').set('Authorization', BEARER).expect(200);
      await t!.close();
    }

    // RateLimitAdminModule on its own takes the option too.
    const own = await startApp(adapter, { imports: [RateLimitModule.forRoot({}), RateLimitAdminModule.forRoot({ apiKey: ADMIN_KEY, dashboard: true })] });
    try {
      await own.http().get('/rate-limit/dashboard').expect(200);
      await own.http().get('/rate-limit/dashboard/api.js').expect(200);
    } finally {
      await own.close();
    }
    t = undefined;
  });

  it('is kept out of the OpenAPI document, which still describes the admin API', async () => {
    await start();
    const paths = Object.keys(SwaggerModule.createDocument(t!.app, new DocumentBuilder().build()).paths);
    expect(paths.filter((path) => path.includes('dashboard'))).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['/rate-limit/bans', '/rate-limit/stats', '/rate-limit/clients/{key}']));
  });
});

describe('admin dashboard configuration', () => {
  it('refuses a dashboard option that is not a boolean, at once', () => {
    for (const dashboard of ['yes', 1, null, {}]) {
      const admin = { dashboard } as unknown as { dashboard: boolean };
      expect(() => RateLimitModule.forRoot({ adminApiKey: ADMIN_KEY, admin })).toThrow(RateLimitConfigurationError);
      expect(() => RateLimitModule.forRoot({ adminApiKey: ADMIN_KEY, admin })).toThrow('admin.dashboard must be true');
      expect(() => RateLimitAdminModule.forRoot({ apiKey: ADMIN_KEY, ...admin })).toThrow('admin.dashboard must be true');
    }
  });

  it('refuses to start when its files cannot be read, naming each and the fix', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'rampart-dashboard-'));
    writeFileSync(join(folder, DASHBOARD_PAGE), '<!doctype html>');
    const error = await loadDashboardAssets(folder).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(RateLimitConfigurationError);
    const message = (error as Error).message;
    expect(message).toContain(`cannot be read from ${folder}: `);
    expect(message).toContain('app.js (ENOENT)');
    expect(message).not.toContain(`${DASHBOARD_PAGE} (`);
    expect(message).toContain('run npm run build');
    expect(message).toContain('Or set admin.dashboard to false.');

    // A module with the dashboard compiles its files in: the sources' folder is complete.
    const moduleRef = await Test.createTestingModule({ imports: [RateLimitModule.forRoot({ adminApiKey: ADMIN_KEY, admin: { dashboard: true } })] }).compile();
    await moduleRef.close();
  });

  it('ships no inline script or style, parses no HTML from strings, and loads nothing from elsewhere', async () => {
    const assets = await loadDashboardAssets();
    const page = assets.get(DASHBOARD_PAGE)!.body;
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page).not.toMatch(/\sstyle=|<style|\son[a-z]+=|javascript:/i);
    for (const [name, { body }] of assets) {
      expect([name, body]).not.toEqual([
        name,
        expect.stringMatching(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\('on/),
      ]);
      // No CDN: nothing but the SVG namespace names another origin.
      expect([name, body.replace('http://www.w3.org/2000/svg', '')]).not.toEqual([name, expect.stringMatching(/https?:\/\//)]);
    }
  });
});
