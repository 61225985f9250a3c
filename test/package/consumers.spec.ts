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

  it('serves the Mongo storage and the throttler-compatible API from their own entry points', () => {
    const out = run(
      'entries.cjs',
      `const { createRequire } = require('node:module');
       const requireFromRepo = createRequire(${JSON.stringify(join(root, 'package.json'))});
       const { mongoStorage, MongoRateLimitStore } = requireFromRepo('nest-rampart/mongo');
       const { ThrottlerModule, ThrottlerGuard } = requireFromRepo('nest-rampart/throttler');
       console.log(typeof mongoStorage, typeof MongoRateLimitStore, typeof ThrottlerModule.forRoot, typeof ThrottlerGuard);`,
    );
    expect(out).toBe('function function function function');
  });

  it('does not load Mongoose from the main entry point (only from nest-rampart/mongo)', () => {
    // A resolve hook that refuses Mongoose: the main entry must load, the Mongo entry must not.
    const dir = mkdtempSync(join(tmpdir(), 'rampart-no-mongoose-'));
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `export async function resolve(specifier, context, next) {
         if (/^(mongoose|@nestjs\\/mongoose|mongodb)(\\/|$)/.test(specifier)) throw new Error('refused: ' + specifier);
         return next(specifier, context);
       }`,
    );
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);`);
    const load = (entry: string) => {
      writeFileSync(join(dir, 'app.mjs'), `await import(${JSON.stringify(entry)}); console.log('loaded');`);
      try {
        return execFileSync(process.execPath, ['--import', join(dir, 'register.mjs'), join(dir, 'app.mjs')], { cwd: root, stdio: 'pipe' })
          .toString()
          .trim();
      } catch (error) {
        return String((error as { stderr?: Buffer }).stderr ?? error).includes('refused: mongoose') ? 'refused mongoose' : String(error);
      }
    };
    const entry = (name: string) => join(root, 'dist', ...name.split('/'));
    expect(load(entry('index.js'))).toBe('loaded');
    expect(load(entry('storage/mongo/index.js'))).toBe('refused mongoose');
  });
});
