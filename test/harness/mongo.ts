/**
 * Helpers for specs that need MongoDB. test/harness/global-setup.ts provides MONGO_URL (a real MongoDB
 * given by the caller, or the mongo-java-server stand-in), or RAMPART_MONGO_UNAVAILABLE with the reason.
 */
import { randomBytes } from 'node:crypto';

import { isCi } from './mongo-server.js';

/** Why no MongoDB is available, or undefined when one is. */
export function mongoUnavailableReason(): string | undefined {
  if (process.env['MONGO_URL']) return undefined;
  return (
    process.env['RAMPART_MONGO_UNAVAILABLE'] ??
    'MONGO_URL is not set and the test harness did not run (is globalSetup test/harness/global-setup.ts configured in jest.config.cjs?)'
  );
}

/** True when the server is the mongo-java-server stand-in rather than a real MongoDB. */
export function isStandIn(): boolean {
  return Boolean(process.env['RAMPART_MONGO_STAND_IN']);
}

/** The MongoDB connection string (without a database: pass `dbName`, see uniqueDbName). */
export function mongoUrl(): string {
  const url = process.env['MONGO_URL'];
  if (url) return url;
  const reason = mongoUnavailableReason();
  throw new Error(
    isCi()
      ? `MongoDB is required under CI but is unavailable: ${reason}`
      : `MongoDB is unavailable (${reason}); wrap Mongo suites in describeMongo() so they are skipped locally`,
  );
}

let warned = false; // once per spec file (each file has its own module registry)

/**
 * `describe` when MongoDB is available. Otherwise, locally, `describe.skip` with a warning; under CI
 * the suite fails instead of being skipped.
 */
export function describeMongo(name: string, fn: () => void): void {
  const reason = mongoUnavailableReason();
  if (reason === undefined) {
    describe(name, fn);
    return;
  }
  if (isCi()) {
    describe(name, () => {
      it('has a MongoDB to run against', () => {
        throw new Error(`MongoDB is required under CI but is unavailable: ${reason}`);
      });
    });
    return;
  }
  if (!warned) {
    warned = true;
    // Straight to stderr: Jest does not show console output of a file whose tests are all skipped.
    process.stderr.write(`WARNING: SKIPPING Mongo suite "${name}": MongoDB is unavailable: ${reason}\n`);
  }
  describe.skip(name, fn);
}

/**
 * A database name of its own for each spec file (suites run in parallel workers and must not share
 * data): `<prefix>_<pid>_<random>`, within MongoDB's 63-character limit and character rules.
 */
export function uniqueDbName(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'test';
  return `${safe}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
