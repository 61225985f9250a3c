import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { ADMIN_KEY, configFolder } from './config-file.app.js';

const FIXTURE = join(__dirname, 'fixtures', 'sighup-app.mjs');
const rules = (limit: number) => `rules:\n  - { name: default, limit: ${limit}, windowMs: 1h, algorithm: fixed-window }\nescalation: false\n`;

/** Starts the fixture app on `file` and resolves with its port once it listens. */
function startApp(file: string): Promise<{ child: ChildProcess; port: number }> {
  if (!existsSync(join(__dirname, '..', '..', 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test builds it).');
  const child = spawn(process.execPath, [FIXTURE, file, ADMIN_KEY], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (\d+)/.exec(output);
      if (ready) resolve({ child, port: Number(ready[1]) });
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`the app exited (${code}) before it listened: ${output}`)));
  });
}

describe('reload on SIGHUP (an app in a process of its own)', () => {
  it('reloads the file on SIGHUP and keeps running', async () => {
    const folder = configFolder();
    folder.write(rules(2));
    const { child, port } = await startApp(folder.path);
    const http = () => request(`http://127.0.0.1:${port}`);
    try {
      expect((await http().get('/other')).status).toBe(200);
      expect((await http().get('/other')).status).toBe(200);
      expect((await http().get('/other')).status).toBe(429);
      folder.write(rules(4));
      child.kill('SIGHUP');
      // The reload runs in the background: ask until it is done.
      let version = 1;
      for (let i = 0; i < 200 && version === 1; i++) {
        version = (await http().get('/rate-limit/config').set('Authorization', `Bearer ${ADMIN_KEY}`)).body.version;
        if (version === 1) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(version).toBe(2);
      // Two counted (the refused one is not) of the new limit of 4: two more.
      expect((await http().get('/other')).status).toBe(200);
      expect((await http().get('/other')).status).toBe(200);
      expect((await http().get('/other')).status).toBe(429);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
    }
    // Starting Nest in a process of its own takes seconds on a busy machine.
  }, 30_000);
});
