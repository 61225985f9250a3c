/** Nest 12 ships ES modules only; @swc/jest turns them (and our TypeScript) into CommonJS for Jest. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // Mercurius imports quick-lru (an ES module) with import(), and loads @fastify/static, under which
  // content-disposition (an ES module too) is nested: all three are transformed. So is jose (ES
  // modules only), which nest-rampart/jwt loads.
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|uid|file-type|strtok3|token-types|@tokenizer|mercurius|quick-lru|content-disposition|puppeteer-core|@puppeteer|chromium-bidi|jose)/)(?!.*/node_modules/content-disposition/)',
  ],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The sample app imports the package by its name: its sources, not the build.
    '^nest-rampart$': '<rootDir>/lib/index.ts',
    '^nest-rampart/mongo$': '<rootDir>/lib/storage/mongo/index.ts',
    '^nest-rampart/redis$': '<rootDir>/lib/storage/redis/index.ts',
    '^nest-rampart/graphql$': '<rootDir>/lib/graphql/index.ts',
    '^nest-rampart/metrics$': '<rootDir>/lib/metrics/index.ts',
    '^nest-rampart/terminus$': '<rootDir>/lib/terminus/index.ts',
    '^nest-rampart/jwt$': '<rootDir>/lib/jwt/index.ts',
  },
  // The default reporter, then one plain closing line: `tests: N passed, N failed, N skipped`.
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  // The suites stop and restart real servers (MongoDB, Redis, a Redis Cluster) under load, and a
  // client library reconnecting to a server that is gone for good must not keep a finished run
  // alive: the process exits once the results are in (after globalTeardown).
  forceExit: true,
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
};
