import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { DASHBOARD_FILES } from '../../lib/admin/dashboard-assets.js';

/**
 * The dashboard as the package ships it: `dist/`, built by `npm run build` (`npm test` builds
 * first), loaded by Node itself as ES modules, not through Jest's CommonJS transform.
 */
const root = join(__dirname, '..', '..');
const dist = join(root, 'dist');
const work = join(root, '.cache', `dashboard-package-${process.pid}`);
const KEY = 'dashboard-package-key-0123456789';

/** An app of the package at `entry` with the dashboard on; prints the status, type and body of the page and of app.js. */
const app = (entry: string) => `
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
const { RateLimitModule } = await import(${JSON.stringify(entry)});
class AppModule {}
Module({ imports: [RateLimitModule.forRoot({ adminApiKey: ${JSON.stringify(KEY)}, admin: { dashboard: true }, logging: false })] })(AppModule);
const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
await app.listen(0, '127.0.0.1');
const base = 'http://127.0.0.1:' + app.getHttpServer().address().port + '/rate-limit/dashboard';
const answers = [];
for (const url of [base, base + '/app.js']) {
  const response = await fetch(url);
  answers.push({ status: response.status, type: response.headers.get('content-type'), body: await response.text() });
}
await app.close();
console.log(JSON.stringify(answers));
`;

/** Runs `script` as an ES module in its own Node process. */
function node(script: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const file = join(work, `app-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file], { cwd: work, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ status: error ? Number(error.code) : 0, stdout: stdout.trim(), stderr });
    });
  });
}

const source = (name: string) => readFileSync(join(root, 'lib', 'admin', 'dashboard', name), 'utf8');

describe('the admin dashboard in the built package', () => {
  const copy = join(work, 'dist');
  let served: Awaited<ReturnType<typeof node>>;
  let refused: Awaited<ReturnType<typeof node>>;

  beforeAll(async () => {
    if (!existsSync(join(dist, 'admin', 'dashboard-assets.js')))
      throw new Error(`${dist} holds no build of the dashboard: run npm run build (npm test does it first).`);
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    // A copy of the package without the dashboard's files, as a build that skipped them would be.
    const assets = join(dist, 'admin', 'dashboard');
    cpSync(dist, copy, { recursive: true, filter: (path) => path !== assets && !path.startsWith(assets + sep) });
    // Two apps at once: Node takes a few seconds to load Nest.
    [served, refused] = await Promise.all([node(app(join(dist, 'index.js'))), node(app(join(copy, 'index.js')))]);
  }, 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds every file of the dashboard, as in the sources, and serves them from dist/', () => {
    for (const name of DASHBOARD_FILES) expect(readFileSync(join(dist, 'admin', 'dashboard', name), 'utf8')).toBe(source(name));
    expect(served).toMatchObject({ status: 0 });
    expect(JSON.parse(served.stdout)).toEqual([
      { status: 200, type: 'text/html; charset=utf-8', body: source('index.html') },
      { status: 200, type: 'text/javascript; charset=utf-8', body: source('app.js') },
    ]);
  });

  it('refuses to start when the files are missing, saying which and how to fix it', () => {
    expect(existsSync(join(copy, 'admin', 'dashboard'))).toBe(false);
    expect(refused.status).not.toBe(0);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('RateLimitConfigurationError');
    expect(refused.stderr).toContain(`the dashboard's files cannot be read from ${join(copy, 'admin', 'dashboard')}${sep}: none of them is there.`);
    expect(refused.stderr).toContain('run npm run build');
  });
});
