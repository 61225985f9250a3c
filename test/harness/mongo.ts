/**
 * Helpers for specs that need MongoDB. test/harness/global-setup.ts provides MONGO_URL (a real MongoDB
 * given by the caller, or the mongo-java-server stand-in), or RAMPART_MONGO_UNAVAILABLE with the reason.
 */
import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';

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
    isCi() ? `MongoDB is required under CI but is unavailable: ${reason}` : `MongoDB is unavailable (${reason}): install a JDK 17+ and Maven, or set MONGO_URL`,
  );
}

/**
 * `describe` when MongoDB is available. Otherwise the suite fails with the reason and how to fix it
 * (install a JDK 17+ and Maven for the stand-in, or set MONGO_URL): a Mongo suite never passes
 * without having run.
 */
export function describeMongo(name: string, fn: () => void): void {
  const reason = mongoUnavailableReason();
  if (reason === undefined) {
    describe(name, fn);
    return;
  }
  describe(name, () => {
    it('has a MongoDB to run against', () => {
      throw new Error(`MongoDB is unavailable${isCi() ? ' under CI' : ''}: ${reason}`);
    });
  });
}

/**
 * A database name of its own for each spec file (suites run in parallel workers and must not share
 * data): `<prefix>_<pid>_<random>`, within MongoDB's 63-character limit and character rules.
 */
export function uniqueDbName(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'test';
  return `${safe}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * Mongoose connections to one database of the spec's own (see uniqueDbName), opened by `connect`,
 * all closed and the database dropped after the spec's tests.
 */
export function mongoConnections(prefix: string): { readonly dbName: string; connect(): Promise<Connection> } {
  const dbName = uniqueDbName(prefix);
  const connections: Connection[] = [];
  afterAll(async () => {
    const connection = connections[0] ?? (await mongoose.createConnection(mongoUrl(), { dbName }).asPromise());
    await connection.dropDatabase();
    await Promise.all([...new Set([...connections, connection])].map((c) => c.close()));
  });
  return {
    dbName,
    async connect() {
      const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
      connections.push(connection);
      return connection;
    },
  };
}
