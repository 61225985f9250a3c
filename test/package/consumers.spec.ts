import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The built package, loaded the way apps load it: `npm test` builds `dist/` first. */
const root = join(__dirname, '..', '..');

function run(file: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-consumer-'));
  const path = join(dir, file);
  writeFileSync(path, source);
  // Run from the repository so that the package resolves by its own name.
  return execFileSync(process.execPath, [path], { cwd: root, env: { ...process.env, NODE_PATH: join(root, 'node_modules') } })
    .toString()
    .trim();
}

describe('the built package', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first).');
  });

  it('loads from an ES module app', () => {
    const out = run(
      'app.mjs',
      `import { createRequire } from 'node:module';
       const require = createRequire(${JSON.stringify(join(root, 'package.json'))});
       const { RateLimitModule, Throttle } = await import(require.resolve('nest-rampart'));
       console.log(typeof RateLimitModule.forRoot, typeof Throttle);`,
    );
    expect(out).toBe('function function');
  });

  it('loads from a CommonJS app (require of an ES module, Node >= 20.19)', () => {
    const out = run(
      'app.cjs',
      `const { createRequire } = require('node:module');
       const requireFromRepo = createRequire(${JSON.stringify(join(root, 'package.json'))});
       const { RateLimitModule, MemoryRateLimitStore } = requireFromRepo('nest-rampart');
       console.log(typeof RateLimitModule.forRootAsync, new MemoryRateLimitStore().size);`,
    );
    expect(out).toBe('function 0');
  });
});
