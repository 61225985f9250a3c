import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The built package, loaded by its own name: `npm test` builds `dist/` first. */
const root = join(__dirname, '..', '..');

/** The README's standalone example, exactly as printed there. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- standalone-example');
  if (marker < 0) throw new Error('README.md has no standalone-example block');
  const start = readme.indexOf('```js\n', marker) + '```js\n'.length;
  return readme.slice(start, readme.indexOf('```', start));
}

/** Starts the example on a free port; resolves with its port once it listens. */
function start(): Promise<{ child: ChildProcess; port: number }> {
  // Inside the package's folder, `import 'nest-rampart'` resolves to the package itself (self-reference).
  const dir = join(root, '.cache', 'readme-example');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'server.mjs');
  writeFileSync(file, readmeExample());
  const child = spawn(process.execPath, [file], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /listening on (\d+)/.exec(out)?.[1];
      if (port) resolve({ child, port: Number(port) });
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the example exited with ${code}:\n${out}`)));
  });
}

describe("the README's engine example (a plain Node HTTP server, no Nest)", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGTERM');
  });

  it('admits five requests with RateLimit headers, then answers 429 with Retry-After', async () => {
    const started = await start();
    child = started.child;
    const url = `http://127.0.0.1:${started.port}/search`;
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await fetch(url));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(await answers[0]!.text()).toBe('hello\n');
    expect(answers[0]!.headers.get('ratelimit-policy')).toBe('"default";q=5;w=60');
    expect(answers[4]!.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/);
    expect(Number(answers[5]!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another path is another target: counted on its own.
    expect((await fetch(`http://127.0.0.1:${started.port}/other`)).status).toBe(200);
  });

  it('stops cleanly on SIGTERM', async () => {
    const started = await start();
    const exited = new Promise<number | null>((resolve) => started.child.once('exit', resolve));
    started.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
