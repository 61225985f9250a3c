import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The built package: `npm test` builds `dist/` first. */
const root = join(__dirname, '..', '..');
const entry = (name: string) => join(root, 'dist', ...name.split('/'));

/**
 * Runs `source` as an ES module in a fresh Node process whose module resolution refuses every
 * specifier matching `refused` (`import`, and `require` too: an ES module loaded through `require`
 * is refused as a package that is not installed); prints what the module printed, or `refused <specifier>`.
 */
function runRefusing(refused: RegExp, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-entry-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
       if (${refused.toString()}.test(specifier)) throw new Error('refused ' + specifier);
       return next(specifier, context);
     }`,
  );
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);`);
  writeFileSync(
    join(dir, 'require-hook.cjs'),
    `const Module = require('node:module');
     const resolve = Module._resolveFilename;
     Module._resolveFilename = function (request, ...rest) {
       if (${refused.toString()}.test(request)) throw Object.assign(new Error("Cannot find module '" + request + "' (refused " + request + ')'), { code: 'MODULE_NOT_FOUND' });
       return resolve.call(this, request, ...rest);
     };`,
  );
  writeFileSync(join(dir, 'app.mjs'), source);
  try {
    return execFileSync(process.execPath, ['--import', join(dir, 'register.mjs'), '--require', join(dir, 'require-hook.cjs'), join(dir, 'app.mjs')], {
      cwd: root,
      stdio: 'pipe',
    })
      .toString()
      .trim();
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error);
    return /refused (\S+)/.exec(stderr)?.[0] ?? stderr;
  }
}

/**
 * The source of an ES module that imports `names` from the main entry, runs an app of
 * RateLimitModule (created, then closed), and prints `printed` (an expression over `names`).
 */
function appSource(names: string, printed: string): string {
  return `const { Module } = await import(${JSON.stringify(join(root, 'node_modules', '@nestjs', 'common', 'index.js'))});
       const { NestFactory } = await import(${JSON.stringify(join(root, 'node_modules', '@nestjs', 'core', 'index.js'))});
       const { ${names} } = await import(${JSON.stringify(entry('index.js'))});
       class App {}
       Module({ imports: [RateLimitModule.forRoot({ rules: [{ limit: 1, windowMs: 1000 }] })] })(App);
       const app = await NestFactory.createApplicationContext(App, { logger: false });
       await app.close();
       console.log(${printed});`;
}

describe('entry points', () => {
  it('nest-rampart/engine decides requests without loading Nest, Express or Fastify', () => {
    const out = runRefusing(
      /^(@nestjs\/|express$|fastify$|class-validator|class-transformer)/,
      `const { createRampart } = await import(${JSON.stringify(entry('engine/index.js'))});
       const rampart = createRampart({ rules: [{ limit: 1, windowMs: 1000 }], logger: { log() {}, warn() {}, error() {} } });
       await rampart.start();
       const a = await rampart.decide({ target: 'job', address: '192.0.2.1' });
       const b = await rampart.decide({ target: 'job', address: '192.0.2.1' });
       await rampart.stop();
       console.log(a.outcome, b.outcome);`,
    );
    expect(out).toBe('admitted limited');
  });

  it('the main entry loads no admin controller, DTO, class-validator or class-transformer; nest-rampart/admin does', () => {
    const refused = /^class-(validator|transformer)$|admin\.controller|\/dto\//;
    const main = runRefusing(
      refused,
      `const { RateLimitModule, RateLimitGuard } = await import(${JSON.stringify(entry('index.js'))});
       RateLimitModule.forRoot({ rules: [{ limit: 1, windowMs: 1000 }] });
       console.log(typeof RateLimitGuard);`,
    );
    expect(main).toBe('function');
    expect(runRefusing(refused, `await import(${JSON.stringify(entry('admin/index.js'))}); console.log('loaded');`)).toMatch(/^refused /);
  });

  it('the main entry loads neither Mongoose nor @nestjs/websockets, ws or socket.io, even running an app', () => {
    const refused = /^(mongoose|@nestjs\/mongoose|@nestjs\/websockets|@nestjs\/platform-ws|@nestjs\/platform-socket\.io|ws|socket\.io|socket\.io-client)(\/|$)/;
    const out = runRefusing(refused, appSource('RateLimitModule', "'ran'"));
    expect(out).toBe('ran');
    // The loader refuses them when they are asked for (the WebSocket adapter imports them).
    expect(runRefusing(refused, `await import(${JSON.stringify(entry('ws/ws-message-limiter.js'))}); console.log('loaded');`)).toMatch(
      /^refused @nestjs\/websockets/,
    );
  });

  it('the main entry loads neither @nestjs/microservices nor @grpc/grpc-js or @grpc/proto-loader, even running an app', () => {
    const refused = /^(@nestjs\/microservices|@grpc\/grpc-js|@grpc\/proto-loader)(\/|$)/;
    const out = runRefusing(
      refused,
      appSource('RateLimitModule, RateLimitGuard, GRPC_REFUSAL_TRAILERS', 'typeof RateLimitGuard, GRPC_REFUSAL_TRAILERS.retryAfter'),
    );
    expect(out).toBe('function retry-after');
    // The microservice adapter needs @nestjs/microservices; its gRPC refusals, @grpc/grpc-js.
    expect(runRefusing(refused, `await import(${JSON.stringify(entry('rpc/rpc-limiter.js'))}); console.log('loaded');`)).toMatch(
      /^refused @nestjs\/microservices/,
    );
    expect(runRefusing(refused, `await import(${JSON.stringify(entry('rpc/grpc-refusal.js'))}); console.log('loaded');`)).toMatch(/^refused @grpc\/grpc-js/);
  });

  it("the gRPC refusal loads as an ES module from @grpc/grpc-js's CommonJS build", () => {
    const out = runRefusing(
      /^$/,
      `const { grpcRefusal } = await import(${JSON.stringify(entry('rpc/grpc-refusal.js'))});
       const refusal = grpcRefusal({ status: 'error', code: 'BANNED', message: 'banned' });
       console.log(refusal.code, refusal.metadata.get('rampart-code')[0], refusal.metadata.get('grpc-retry-pushback-ms')[0]);`,
    );
    expect(out).toBe('7 BANNED -1');
  });

  it('the main entry loads neither graphql nor @nestjs/graphql (nor Apollo, Mercurius or graphql-ws), even running an app; nest-rampart/graphql does', () => {
    const refused = /^(graphql|@nestjs\/graphql|@nestjs\/apollo|@nestjs\/mercurius|@apollo\/server|mercurius|graphql-ws)(\/|$)/;
    const out = runRefusing(refused, appSource('RateLimitModule, RateLimitGuard', "'ran', typeof RateLimitGuard"));
    expect(out).toBe('ran function');
    // The guard's GraphQL adapter and the entry point import them when they are asked for.
    expect(runRefusing(refused, `await import(${JSON.stringify(entry('graphql/graphql-field-limiter.js'))}); console.log('loaded');`)).toMatch(
      /^refused @nestjs\/graphql/,
    );
    expect(runRefusing(refused, `await import(${JSON.stringify(entry('graphql/index.js'))}); console.log('loaded');`)).toMatch(
      /^refused (graphql|@nestjs\/graphql)$/,
    );
  });

  it('nest-rampart/graphql loads without Apollo or Mercurius: an app needs only its own driver', () => {
    const out = runRefusing(
      /^(@nestjs\/apollo|@nestjs\/mercurius|@apollo\/server|mercurius)(\/|$)/,
      `const { rampartGraphql, Cost } = await import(${JSON.stringify(entry('graphql/index.js'))});
       console.log(typeof rampartGraphql, typeof Cost);`,
    );
    expect(out).toBe('function function');
  });

  it('the main entry loads neither ioredis nor node-redis nor any Redis store, even running an app; nest-rampart/redis needs neither client package', () => {
    const refused = /^(ioredis|redis|@redis\/[^/]+)(\/|$)|\/redis\//;
    const out = runRefusing(refused, appSource('RateLimitModule', "'ran'"));
    expect(out).toBe('ran');
    // The Redis entry takes the app's client: it imports neither client package (nor Mongoose, nor Nest).
    const redis = runRefusing(
      /^(ioredis|redis|@redis\/[^/]+|mongoose|@nestjs\/[^/]+)(\/|$)/,
      `const { redisStorage } = await import(${JSON.stringify(entry('storage/redis/index.js'))});
       const storage = redisStorage({ client: { evalsha: async () => 1, eval: async () => 1 } });
       await storage.init();
       console.log(typeof storage.rateLimits.consume, typeof storage.bans.put);`,
    );
    expect(redis).toBe('function function');
    expect(runRefusing(refused, `await import(${JSON.stringify(entry('storage/redis/index.js'))}); console.log('loaded');`)).toMatch(/^refused .*\/redis\//);
  });

  it('nest-rampart/throttler, its storage over Rampart stores included, loads neither @nestjs/throttler nor any database client', () => {
    const out = runRefusing(
      /^(@nestjs\/throttler|mongoose|mongodb|ioredis|redis|@redis\/[^/]+)(\/|$)/,
      `const { rampartThrottlerStorage, ThrottlerModule } = await import(${JSON.stringify(entry('throttler/index.js'))});
       const { MemoryRateLimitStore } = await import(${JSON.stringify(entry('storage/memory-rate-limit.store.js'))});
       const storage = rampartThrottlerStorage(new MemoryRateLimitStore());
       await storage.onModuleInit();
       const first = await storage.increment('k', 60_000, 1, 0, 'default');
       const second = await storage.increment('k', 60_000, 1, 0, 'default');
       console.log(typeof ThrottlerModule.forRoot, first.isBlocked, second.isBlocked);`,
    );
    expect(out).toBe('function false true');
  });

  it('the main entry never loads prom-client, even running an app; nest-rampart/metrics does, and registers the metrics', () => {
    const refused = /^prom-client(\/|$)|\/dist\/metrics\//;
    const out = runRefusing(refused, appSource('RateLimitModule, RateLimitGuard', "'ran', typeof RateLimitGuard"));
    expect(out).toBe('ran function');
    expect(runRefusing(refused, `await import(${JSON.stringify(entry('metrics/index.js'))}); console.log('loaded');`)).toMatch(/^refused /);
    const metrics = runRefusing(
      /^$/,
      `const { createRampart } = await import(${JSON.stringify(entry('engine/index.js'))});
       const { registerRampartMetrics } = await import(${JSON.stringify(entry('metrics/index.js'))});
       const rampart = createRampart({ rules: [{ limit: 1, windowMs: 1000 }], logger: { log() {}, warn() {}, error() {} } });
       await rampart.start();
       const { registry } = registerRampartMetrics(rampart);
       await rampart.decide({ target: 'job', address: '192.0.2.1' });
       const text = await registry.metrics();
       await rampart.stop();
       console.log(text.includes('rampart_decisions_total{protocol="http",outcome="allowed",rule="default"} 1'));`,
    );
    expect(metrics).toBe('true');
  });

  it('the main entry never loads @nestjs/terminus, even running an app; nest-rampart/terminus does, and provides its indicator', () => {
    const refused = /^@nestjs\/terminus(\/|$)/;
    expect(runRefusing(refused, appSource('RateLimitModule', "'ran'"))).toBe('ran');
    expect(runRefusing(refused, `await import(${JSON.stringify(entry('terminus/index.js'))}); console.log('loaded');`)).toMatch(/^refused @nestjs\/terminus/);
    const health = runRefusing(
      /^$/,
      `const { Module } = await import(${JSON.stringify(join(root, 'node_modules', '@nestjs', 'common', 'index.js'))});
       const { NestFactory } = await import(${JSON.stringify(join(root, 'node_modules', '@nestjs', 'core', 'index.js'))});
       const { RateLimitModule } = await import(${JSON.stringify(entry('index.js'))});
       const { RampartHealthModule, RampartHealthIndicator } = await import(${JSON.stringify(entry('terminus/index.js'))});
       class App {}
       Module({ imports: [RateLimitModule.forRoot({ rules: [] }), RampartHealthModule] })(App);
       const app = await NestFactory.createApplicationContext(App, { logger: false });
       const result = await app.get(RampartHealthIndicator).isHealthy('store');
       await app.close();
       console.log(result.store.status, result.store.storage);`,
    );
    expect(health).toBe('up ready');
  });

  it('the main entry never loads jose, even running an app with its identity helpers; nest-rampart/jwt does, and says how to install it', () => {
    const refused = /^jose(\/|$)/;
    const out = runRefusing(
      refused,
      appSource(
        'RateLimitModule, ipIdentity, sessionIdentity, IdentityError',
        "'ran', Object.keys(ipIdentity({ groups: { internal: ['10.0.0.0/8'] } })).join(','), typeof sessionIdentity().keyResolver, new IdentityError('x').code",
      ),
    );
    expect(out).toBe('ran keyResolver,groupResolver function IDENTITY_REQUIRED');
    const missing = runRefusing(
      refused,
      `const { jwtIdentity } = await import(${JSON.stringify(entry('jwt/index.js'))});
       try { jwtIdentity({ secret: 'a-test-secret-of-at-least-32-bytes', algorithms: ['HS256'] }); console.log('verified without jose'); }
       catch (error) { console.log(error.name, error.problems.join(' | ')); }`,
    );
    expect(missing).toMatch(/^RateLimitConfigurationError jwtIdentity needs the jose package to verify tokens, .*refused jose.* Install it: npm install jose$/);
    const verified = runRefusing(
      /^$/,
      `const { SignJWT } = await import(${JSON.stringify(join(root, 'node_modules', 'jose', 'dist', 'webapi', 'index.js'))});
       const { jwtIdentity } = await import(${JSON.stringify(entry('jwt/index.js'))});
       const secret = 'a-test-secret-of-at-least-32-bytes';
       const token = await new SignJWT({ sub: 'u1', group: 'admin' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
       const { keyResolver, groupResolver } = jwtIdentity({ secret, algorithms: ['HS256'] });
       const context = { getType: () => 'http', getArgByIndex: () => ({ headers: { authorization: 'Bearer ' + token } }) };
       console.log(await keyResolver(context, null), await groupResolver(context, null));`,
    );
    expect(verified).toBe('u1 admin');
  });

  it('the refusing loader does refuse: the main entry needs Nest', () => {
    const out = runRefusing(/^@nestjs\//, `await import(${JSON.stringify(entry('index.js'))}); console.log('loaded');`);
    expect(out).toMatch(/^refused @nestjs\//);
  });
});
