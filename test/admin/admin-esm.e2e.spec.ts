import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The admin API as an ES module app meets it: `lib/` compiled as the package build does, loaded by
 * Node itself (not Jest's CommonJS transform), with and without @nestjs/swagger resolvable.
 */
const root = join(__dirname, '..', '..');
const out = join(root, '.cache', `admin-esm-${process.pid}`);
const KEY = 'esm-admin-key-0123456789';

const APP = `
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RateLimitModule } from './lib/index.js';

class AppModule {}
// The event log off: stdout carries the JSON this app prints, and nothing else.
Module({ imports: [RateLimitModule.forRoot({ adminApiKey: ${JSON.stringify(KEY)}, admin: {}, logging: false })] })(AppModule);
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
let paths = null;
if (process.env.WITH_SWAGGER === '1') {
  const { SwaggerModule, DocumentBuilder } = await import('@nestjs/swagger');
  paths = Object.keys(SwaggerModule.createDocument(app, new DocumentBuilder().build()).paths).sort();
}
await app.listen(0, '127.0.0.1');
const url = 'http://127.0.0.1:' + app.getHttpServer().address().port + '/rate-limit';
const auth = { authorization: 'Bearer ${KEY}', 'content-type': 'application/json' };
const created = await fetch(url + '/bans', { method: 'POST', headers: auth, body: JSON.stringify({ key: 'k', kind: 'permanent', reason: 'r' }) });
const invalid = await fetch(url + '/bans?limit=0', { headers: auth });
const anonymous = await fetch(url + '/bans');
const createdBy = (await created.json()).createdBy;
await app.close();
console.log(JSON.stringify({ paths, statuses: [created.status, invalid.status, anonymous.status], createdBy }));
`;

/** Makes '@nestjs/swagger' unresolvable, as in an app that does not install it. */
const WITHOUT_SWAGGER = `
import { register } from 'node:module';
const hooks = \`export async function resolve(specifier, context, next) {
  if (specifier === '@nestjs/swagger' || specifier.startsWith('@nestjs/swagger/')) {
    throw Object.assign(new Error("Cannot find package '@nestjs/swagger'"), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}\`;
register('data:text/javascript,' + encodeURIComponent(hooks));
`;

function run(args: string[], env: Record<string, string> = {}): { stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, args, { cwd: out, env: { ...process.env, ...env }, timeout: 60_000 });
  const stdout = result.stdout.toString().trim();
  const stderr = result.stderr.toString().trim();
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${String(result.status)}\n${stdout}\n${stderr}`);
  return { stdout, stderr };
}

describe('the admin API in an ES module build', () => {
  beforeAll(() => {
    mkdirSync(out, { recursive: true });
    try {
      execFileSync(
        process.execPath,
        [
          join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          join(root, 'tsconfig.build.json'),
          '--outDir',
          join(out, 'lib'),
          '--declaration',
          'false',
          '--declarationMap',
          'false',
          '--sourceMap',
          'false',
        ],
        { cwd: root, stdio: 'pipe' },
      );
    } catch {
      // Type errors are tsc --noEmit's business; what matters here is what was emitted.
    }
    if (!existsSync(join(out, 'lib', 'admin', 'admin.controller.js'))) throw new Error('tsc emitted no admin controller');
    writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(out, 'app.mjs'), APP);
    writeFileSync(join(out, 'without-swagger.mjs'), WITHOUT_SWAGGER);
  }, 180_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('describes the admin endpoints in the OpenAPI document when @nestjs/swagger is installed', () => {
    const result = JSON.parse(run(['app.mjs'], { WITH_SWAGGER: '1' }).stdout) as { paths: string[]; statuses: number[]; createdBy: string };
    expect(result.paths).toEqual([
      '/rate-limit/access-list',
      '/rate-limit/bans',
      '/rate-limit/clients/{key}',
      '/rate-limit/config',
      '/rate-limit/config/reload',
      '/rate-limit/stats',
      '/rate-limit/violations',
    ]);
    expect(result.statuses).toEqual([201, 400, 401]);
    expect(result.createdBy).toMatch(/^api-key:[0-9a-f]{4}$/);
  }, 60_000);

  it('loads and works when @nestjs/swagger cannot be resolved', () => {
    const { stdout, stderr } = run(['--import', './without-swagger.mjs', 'app.mjs']);
    expect(`${stdout}${stderr}`).not.toMatch(/swagger/i);
    expect(JSON.parse(stdout)).toEqual({ paths: null, statuses: [201, 400, 401], createdBy: expect.stringMatching(/^api-key:/) });
    // The hook does hide the package.
    expect(() => run(['--import', './without-swagger.mjs', '--input-type=module', '-e', "await import('@nestjs/swagger')"])).toThrow(
      /Cannot find package '@nestjs\/swagger'/,
    );
  }, 60_000);
});
