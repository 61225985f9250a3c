import mongoose, { type Connection, type Schema } from 'mongoose';

import { MongoAccessListStore } from '../../lib/storage/mongo/mongo-access-list.store.js';
import { MongoBanStore } from '../../lib/storage/mongo/mongo-ban.store.js';
import { retryOnDuplicateKey } from '../../lib/storage/mongo/mongo-collection.js';
import { MongoSweeper, type SweepableStore } from '../../lib/storage/mongo/mongo-sweeper.js';
import { MongoViolationStore } from '../../lib/storage/mongo/mongo-violation.store.js';
import { StorageSetupError } from '../../lib/storage/storage-setup.error.js';
import { AccessListEntrySchema } from '../../lib/storage/mongo/schemas/access-list-entry.schema.js';
import { BanSchema } from '../../lib/storage/mongo/schemas/ban.schema.js';
import { ViolationSchema } from '../../lib/storage/mongo/schemas/violation.schema.js';
import { describeMongo, isStandIn, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { accessListStoreContract } from './contracts/access-list-store.contract.js';
import { banStoreContract } from './contracts/ban-store.contract.js';
import { violationStoreContract } from './contracts/violation-store.contract.js';

const T0 = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;

const key = (k: string) => ({ type: 'key', key: k }) as const;
const temporary = (k: string, expiresAtMs: number) =>
  ({ target: key(k), kind: 'temporary', reason: 'r', source: 'auto', createdBy: 'rampart', expiresAtMs, violationCount: 1 }) as const;
const permanent = (k: string) => ({ target: key(k), kind: 'permanent', reason: 'r', source: 'admin', createdBy: 'alice', violationCount: 1 }) as const;
const violation = (k: string, atMs: number) => ({ key: k, rule: 'r', route: 'A.a', method: 'GET', hits: 2, limit: 1, atMs });
const entry = (cidr: string, extra = {}) => ({ cidr, kind: 'deny' as const, createdBy: 'alice', createdAtMs: T0, ...extra });

async function connect(dbName: string): Promise<Connection> {
  return mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
}

describeMongo('Mongo stores', () => {
  const dbName = uniqueDbName('mongo_stores');
  let connection: Connection;
  let collections = 0;
  /** A collection of its own for each store, so that tests share nothing. */
  const fresh = (prefix: string) => `${prefix}_${++collections}`;

  beforeAll(async () => {
    connection = await connect(dbName);
  });

  afterAll(async () => {
    if (!connection) return;
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  });

  banStoreContract(
    'MongoBanStore',
    async () => {
      const store = new MongoBanStore(connection, { collectionName: fresh('bans') });
      await store.init();
      return store;
    },
    // The stand-in applies concurrent $inc updates exactly but may return the same post-image to two
    // of them; MongoDB returns each update's own.
    { exactConcurrentResults: !isStandIn() },
  );
  violationStoreContract('MongoViolationStore', async () => {
    const store = new MongoViolationStore(connection, { collectionName: fresh('violations') });
    await store.init();
    return store;
  });
  accessListStoreContract('MongoAccessListStore', async () => {
    const store = new MongoAccessListStore(connection, { collectionName: fresh('access') });
    await store.init();
    return store;
  });

  describe('indexes', () => {
    async function listed(store: { collection: { listIndexes(): { toArray(): Promise<unknown[]> } } }) {
      return (await store.collection.listIndexes().toArray()) as Array<Record<string, unknown>>;
    }

    it('creates the indexes of each schema on init, idempotently', async () => {
      const bans = new MongoBanStore(connection, { collectionName: fresh('bans') });
      const violations = new MongoViolationStore(connection, { collectionName: fresh('violations') });
      const accessList = new MongoAccessListStore(connection, { collectionName: fresh('access') });
      for (const store of [bans, violations, accessList]) {
        await store.init();
        await store.init();
        await expect(store.verifyIndexes()).resolves.toBeUndefined();
      }
      expect(await listed(bans)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'updatedAtMs_-1__id_-1', key: { updatedAtMs: -1, _id: -1 } }),
          expect.objectContaining({ name: 'purgeAt_1', key: { purgeAt: 1 }, expireAfterSeconds: 0 }),
        ]),
      );
      expect(await listed(violations)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'key_1_atMs_-1__id_-1', key: { key: 1, atMs: -1, _id: -1 } }),
          expect.objectContaining({ name: 'atMs_-1__id_-1', key: { atMs: -1, _id: -1 } }),
          expect.objectContaining({ name: 'purgeAt_1', key: { purgeAt: 1 }, expireAfterSeconds: 0 }),
        ]),
      );
      expect(await listed(accessList)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'updatedAtMs_1__id_1', key: { updatedAtMs: 1, _id: 1 } }),
          expect.objectContaining({ name: 'purgeAt_1', key: { purgeAt: 1 }, expireAfterSeconds: 0 }),
        ]),
      );
    });

    it('reports missing indexes before init, naming the collection and the fix', async () => {
      const name = fresh('bans');
      const store = new MongoBanStore(connection, { collectionName: name });
      const failure = store.verifyIndexes();
      await expect(failure).rejects.toThrow(`MongoBanStore: collection '${name}' has 2 index problems:`);
      await expect(store.verifyIndexes()).rejects.toThrow(
        "index 'updatedAtMs_-1__id_-1' { key: { updatedAtMs: -1, _id: -1 } } is missing: call init() on the store to create it.",
      );
    });

    it('reports an index of the required name with other options, on init and on verifyIndexes', async () => {
      // A database of its own: on the stand-in, dropIndex('purgeAt_1') also drops the purgeAt_1 index
      // of the other collections of the database.
      const own = await connect(uniqueDbName('mongo_index_conflict'));
      try {
        const name = 'rampart_violations';
        // An operator created purgeAt_1 without TTL before the store first ran.
        await own.db!.collection(name).createIndex({ purgeAt: 1 }, { name: 'purgeAt_1' });
        const store = new MongoViolationStore(own);
        const expected =
          `MongoViolationStore: collection '${name}' has 1 index problem:\n` +
          `- index 'purgeAt_1' is { key: { purgeAt: 1 } } but { key: { purgeAt: 1 }, expireAfterSeconds: 0 } is required: ` +
          `drop it (db.getCollection('${name}').dropIndex('purgeAt_1')) and call init() again.`;
        const initError = await store.init().then(
          () => undefined,
          (error: unknown) => error as Error,
        );
        // MongoDB refuses the createIndex (IndexOptionsConflict); the stand-in accepts a second index of
        // the same name. Either way init fails with the same explanation.
        expect(initError?.message).toBe(expected);
        // Retrying cannot fix it: startup fails on it whatever requireStore says.
        expect(initError).toBeInstanceOf(StorageSetupError);
        await expect(store.verifyIndexes()).rejects.toThrow(expected);
        await expect(store.verifyIndexes()).rejects.toBeInstanceOf(StorageSetupError);

        // Following the advice fixes it.
        await own.db!.collection(name).dropIndex('purgeAt_1');
        await store.init();
        await expect(store.verifyIndexes()).resolves.toBeUndefined();
        await own.dropDatabase();
      } finally {
        await own.close();
      }
    });

    it('reports an index with the required key under another name', async () => {
      const name = fresh('access');
      await connection.db!.collection(name).createIndex({ updatedAtMs: 1, _id: 1 }, { name: 'by_update' });
      const store = new MongoAccessListStore(connection, { collectionName: name });
      await expect(store.init()).rejects.toThrow(
        `index 'by_update' has the key of the required index 'updatedAtMs_1__id_1' { key: { updatedAtMs: 1, _id: 1 } } under another name, ` +
          `so it cannot be created: drop it (db.getCollection('${name}').dropIndex('by_update')) and call init() again.`,
      );
      await expect(store.verifyIndexes()).rejects.toThrow(`MongoAccessListStore: collection '${name}'`);
    });

    it('creates a plain purgeAt index with ttlIndex: false, which a TTL store then reports', async () => {
      const name = fresh('bans');
      const plain = new MongoBanStore(connection, { collectionName: name, ttlIndex: false });
      await plain.init();
      expect((await listed(plain)).find((index) => index['name'] === 'purgeAt_1')).not.toHaveProperty('expireAfterSeconds');
      await expect(new MongoBanStore(connection, { collectionName: name }).verifyIndexes()).rejects.toThrow(
        "index 'purgeAt_1' is { key: { purgeAt: 1 } } but { key: { purgeAt: 1 }, expireAfterSeconds: 0 } is required",
      );
    });
  });

  describe('documents', () => {
    /** Every field a store writes is a path of its schema: Mongoose strict mode would drop nothing. */
    async function expectSchemaFields(schema: Schema, docs: ReadonlyArray<Record<string, unknown>>) {
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        for (const field of Object.keys(doc)) expect([field, schema.path(field) !== undefined]).toEqual([field, true]);
        const Model = connection.model(`SchemaCheck${++collections}`, schema, fresh('unused'));
        await expect(new Model(doc).validate()).resolves.toBeUndefined();
      }
    }

    it('hold only fields of their schema, and pass its validation', async () => {
      const bans = new MongoBanStore(connection, { collectionName: fresh('bans') });
      const violations = new MongoViolationStore(connection, { collectionName: fresh('violations') });
      const accessList = new MongoAccessListStore(connection, { collectionName: fresh('access') });
      await bans.put(temporary('t', T0 + 1), T0);
      await bans.put({ ...permanent('p'), target: { type: 'cidr', cidr: '10.0.0.0/8' } }, T0);
      await bans.put(permanent('l'), T0);
      await bans.lift(key('l'), 'bob', T0 + 1);
      await violations.record(violation('k', T0));
      await accessList.put(entry('10.0.0.1', { note: 'n', expiresAtMs: T0 + 5 }), T0);
      await accessList.put(entry('10.0.0.2'), T0);
      await accessList.remove('deny', '10.0.0.2', T0 + 1);
      await expectSchemaFields(BanSchema, await bans.collection.find({}).toArray());
      await expectSchemaFields(ViolationSchema, await violations.collection.find({}).toArray());
      await expectSchemaFields(AccessListEntrySchema, await accessList.collection.find({}).toArray());
    });

    it('store purgeAt as a Date: expiry plus history retention, set by lift for a permanent ban', async () => {
      const bans = new MongoBanStore(connection, { collectionName: fresh('bans'), historyRetentionMs: DAY });
      await bans.put(temporary('t', T0 + 1_000), T0);
      await bans.put(permanent('p'), T0);
      expect((await bans.collection.findOne({ _id: 'key:t' }))?.purgeAt).toEqual(new Date(T0 + 1_000 + DAY));
      expect((await bans.collection.findOne({ _id: 'key:p' }))?.purgeAt).toBeUndefined();
      await bans.lift(key('p'), 'bob', T0 + 5);
      expect((await bans.collection.findOne({ _id: 'key:p' }))?.purgeAt).toEqual(new Date(T0 + 5 + DAY));
    });

    it('retries a lost duplicate-key race at most once, and counts concurrent first upserts right', async () => {
      const bans = new MongoBanStore(connection, { collectionName: fresh('bans') });
      const targets = Array.from({ length: 10 }, (_, i) => `race-${i}`);
      await Promise.all(targets.flatMap((t) => Array.from({ length: 5 }, () => bans.put(temporary(t, T0 + DAY), T0))));
      for (const t of targets) expect((await bans.get(key(t)))?.blockCount).toBe(5);
      expect(bans.duplicateKeyRetries).toBeLessThanOrEqual(40);
    });
  });

  describe('records written before versions', () => {
    /** A record as stores wrote it before records carried a version. */
    async function unversioned(bans: MongoBanStore, k: string) {
      await bans.collection.insertOne({
        _id: `key:${k}`,
        targetType: 'key',
        target: k,
        kind: 'temporary',
        reason: 'old',
        source: 'auto',
        createdBy: 'rampart',
        createdAtMs: T0,
        expiresAtMs: T0 + 1_000,
        violationCount: 3,
        blockCount: 1,
        updatedAtMs: T0,
        purgeAt: new Date(T0 + 1_000 + DAY),
      });
    }

    it('read without a version, matched by expectedVersion null, and versioned by their next write', async () => {
      const bans = new MongoBanStore(connection, { collectionName: fresh('bans') });
      await bans.init();
      await unversioned(bans, 'old');
      const old = await bans.get(key('old'));
      expect(old).toMatchObject({ blockCount: 1 });
      expect(old !== null && 'version' in old).toBe(false);
      expect(await bans.put(temporary('old', T0 + 5_000), T0 + 2_000, { expectedVersion: 0 })).toBeNull();
      const next = await bans.put(temporary('old', T0 + 5_000), T0 + 2_000, { expectedVersion: null });
      expect(next).toMatchObject({ blockCount: 2, version: 1, expiresAtMs: T0 + 5_000 });
      expect(await bans.put(temporary('old', T0 + 9_000), T0 + 3_000, { expectedVersion: null })).toBeNull();
      expect(bans.duplicateKeyRetries).toBe(0);

      await unversioned(bans, 'lifted');
      expect(await bans.lift(key('lifted'), 'bob', T0 + 1)).toMatchObject({ liftedBy: 'bob', version: 1 });
    });
  });

  describe('persistence', () => {
    it('keeps every record across a new connection', async () => {
      const db = uniqueDbName('mongo_persist');
      const first = await connect(db);
      try {
        const bans = new MongoBanStore(first);
        const violations = new MongoViolationStore(first);
        const accessList = new MongoAccessListStore(first);
        for (const store of [bans, violations, accessList]) await store.init();
        await bans.put(temporary('t', T0 + DAY), T0);
        await bans.put(permanent('p'), T0 + 1);
        await bans.lift(key('p'), 'bob', T0 + 2);
        await violations.record(violation('t', T0));
        await violations.record(violation('t', T0 + 1));
        await accessList.put(entry('192.0.2.0/24'), T0);
        await accessList.put(entry('198.51.100.7'), T0);
        await accessList.remove('deny', '198.51.100.7', T0 + 3);
      } finally {
        await first.close();
      }

      const second = await connect(db);
      try {
        const bans = new MongoBanStore(second);
        const violations = new MongoViolationStore(second);
        const accessList = new MongoAccessListStore(second);
        for (const store of [bans, violations, accessList]) await store.verifyIndexes();
        expect(await bans.get(key('t'))).toMatchObject({ kind: 'temporary', blockCount: 1, expiresAtMs: T0 + DAY });
        expect(await bans.get(key('p'))).toMatchObject({ kind: 'permanent', liftedAtMs: T0 + 2, liftedBy: 'bob' });
        expect((await bans.list({ activeAtMs: T0 + 10 }, { limit: 10 })).items.map((b) => b.id)).toEqual(['key:t']);
        expect(await violations.count('t', T0)).toBe(2);
        expect((await accessList.list()).map((e) => e.cidr)).toEqual(['192.0.2.0/24']);
        expect((await accessList.changedSince(T0 + 3, 10)).map((e) => [e.cidr, e.removedAtMs])).toEqual([['198.51.100.7/32', T0 + 3]]);
        await second.dropDatabase();
      } finally {
        await second.close();
      }
    });
  });

  describe('connection not open yet', () => {
    it('waits for it, writes and reads alike', async () => {
      const opening = mongoose.createConnection(mongoUrl(), { dbName: uniqueDbName('mongo_opening') });
      try {
        const bans = new MongoBanStore(opening);
        const accessList = new MongoAccessListStore(opening);
        const violations = new MongoViolationStore(opening);
        const reads = Promise.all([
          bans.list({}, { limit: 5 }),
          accessList.list(),
          violations.list({}, { limit: 5 }),
          bans.verifyIndexes().catch(() => 'missing'),
        ]);
        await bans.put(permanent('early'), T0);
        const [banPage, entries, violationPage, verified] = await reads;
        expect([banPage.items.length, entries.length, violationPage.items.length, verified]).toEqual([expect.any(Number), 0, 0, 'missing']);
        expect((await bans.list({}, { limit: 5 })).items.map((b) => b.id)).toEqual(['key:early']);
        await opening.dropDatabase();
      } finally {
        await opening.close();
      }
    });
  });

  describe('MongoSweeper', () => {
    it('deletes what is past its retention at the time given, and nothing else', async () => {
      const bans = new MongoBanStore(connection, { collectionName: fresh('bans'), historyRetentionMs: DAY });
      const violations = new MongoViolationStore(connection, { collectionName: fresh('violations'), retentionMs: DAY });
      const accessList = new MongoAccessListStore(connection, { collectionName: fresh('access'), historyRetentionMs: DAY });
      for (const store of [bans, violations, accessList]) await store.init();

      await bans.put(temporary('expired', T0 + 1), T0); // purge at T0 + 1 + DAY
      await bans.put(temporary('active', T0 + 10 * DAY), T0); // purge at T0 + 11 DAY
      await bans.put(permanent('permanent'), T0); // never
      await bans.put(permanent('lifted'), T0);
      await bans.lift(key('lifted'), 'bob', T0 + 5); // purge at T0 + 5 + DAY
      await bans.put(temporary('lifted-early', T0 + 3 * DAY), T0);
      await bans.lift(key('lifted-early'), 'bob', T0); // purge at T0 + 4 DAY (after its expiry)
      await violations.record(violation('k', T0)); // purge at T0 + DAY
      await violations.record(violation('k', T0 + DAY)); // purge at T0 + 2 DAY
      await accessList.put(entry('10.0.0.1', { expiresAtMs: T0 + 1 }), T0); // purge at T0 + 1 + DAY
      await accessList.put(entry('10.0.0.2'), T0);
      await accessList.remove('deny', '10.0.0.2', T0 + 2); // purge at T0 + 2 + DAY
      await accessList.put(entry('10.0.0.3'), T0); // never

      const sweeper = new MongoSweeper({ bans, violations, accessList });
      // Reads never wait for a sweep: the expired ban is already out of force.
      expect((await bans.list({ activeAtMs: T0 + 2 }, { limit: 10 })).items.map((b) => b.id).sort()).toEqual(['key:active', 'key:permanent']);

      expect(await sweeper.sweepOnce(T0 + DAY)).toEqual({ bans: 0, violations: 1, accessList: 0 });
      expect(await sweeper.sweepOnce(T0 + DAY + 10)).toEqual({ bans: 2, violations: 0, accessList: 2 });
      expect(await sweeper.sweepOnce(T0 + DAY + 10)).toEqual({ bans: 0, violations: 0, accessList: 0 });
      expect((await bans.list({}, { limit: 10 })).items.map((b) => b.id).sort()).toEqual(['key:active', 'key:lifted-early', 'key:permanent']);
      expect(await violations.count('k', 0)).toBe(1);
      expect((await accessList.changedSince(0, 10)).map((e) => e.cidr)).toEqual(['10.0.0.3/32']);

      expect(await sweeper.sweepOnce(T0 + 4 * DAY)).toEqual({ bans: 1, violations: 1, accessList: 0 });
      expect((await bans.list({}, { limit: 10 })).items.map((b) => b.id).sort()).toEqual(['key:active', 'key:permanent']);
      expect(await sweeper.sweepOnce(T0 + 1000 * DAY)).toEqual({ bans: 1, violations: 0, accessList: 0 });
      expect((await bans.list({}, { limit: 10 })).items.map((b) => b.id)).toEqual(['key:permanent']);
    });
  });
});

describe('retryOnDuplicateKey', () => {
  const duplicate = Object.assign(new Error('E11000 duplicate key error'), { code: 11000 });

  it('runs the operation again once after a duplicate-key error', async () => {
    let calls = 0;
    let retries = 0;
    const result = await retryOnDuplicateKey(
      async () => {
        if (++calls === 1) throw duplicate;
        return 'done';
      },
      () => retries++,
    );
    expect([result, calls, retries]).toEqual(['done', 2, 1]);
  });

  it('gives up after the second duplicate-key error, and never retries other errors', async () => {
    let calls = 0;
    await expect(retryOnDuplicateKey(async () => Promise.reject(++calls && duplicate))).rejects.toBe(duplicate);
    expect(calls).toBe(2);
    const other = Object.assign(new Error('boom'), { code: 2 });
    calls = 0;
    await expect(retryOnDuplicateKey(async () => Promise.reject(++calls && other))).rejects.toBe(other);
    expect(calls).toBe(1);
  });
});

describe('MongoSweeper timer', () => {
  function recordingStore(calls: number[]): SweepableStore {
    return {
      sweep: async (nowMs) => {
        calls.push(nowMs);
        return 1;
      },
    };
  }

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('sweeps every intervalMs at the clock time, until stopped', async () => {
    jest.useFakeTimers();
    const clock = new FakeClock(T0);
    const calls: number[] = [];
    const sweeper = new MongoSweeper({ violations: recordingStore(calls) }, { intervalMs: 60_000, clock });
    sweeper.start();
    sweeper.start(); // idempotent
    await jest.advanceTimersByTimeAsync(59_999);
    expect(calls).toEqual([]);
    clock.advance(60_000);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([T0 + 60_000]);
    clock.advance(60_000);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([T0 + 60_000, T0 + 120_000]);
    sweeper.stop();
    expect(sweeper.started).toBe(false);
    await jest.advanceTimersByTimeAsync(600_000);
    expect(calls).toHaveLength(2);
  });

  it('skips a tick while a sweep is still running, and reports a failed sweep to onError', async () => {
    jest.useFakeTimers();
    let release: () => void = () => undefined;
    let started = 0;
    const slow: SweepableStore = {
      sweep: () => {
        started++;
        return new Promise<number>((resolve) => (release = () => resolve(0)));
      },
    };
    const errors: unknown[] = [];
    const failing: SweepableStore = { sweep: async () => Promise.reject(new Error('server gone')) };
    const sweeper = new MongoSweeper({ bans: slow }, { intervalMs: 1_000, onError: (e) => errors.push(e) });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(3_000);
    expect(started).toBe(1);
    release();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(started).toBe(2);
    sweeper.stop();

    const broken = new MongoSweeper({ accessList: failing }, { intervalMs: 1_000, onError: (e) => errors.push(e) });
    broken.start();
    await jest.advanceTimersByTimeAsync(1_000);
    broken.stop();
    expect(errors).toEqual([expect.objectContaining({ message: 'server gone' })]);
  });

  it('unrefs its timer so that it never keeps the process alive', () => {
    const spy = jest.spyOn(global, 'setInterval');
    const sweeper = new MongoSweeper({});
    sweeper.start();
    const timer = spy.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    sweeper.stop();
  });

  it('rejects an intervalMs that is not a positive integer', () => {
    expect(() => new MongoSweeper({}, { intervalMs: 0 })).toThrow(/intervalMs must be a positive integer/);
  });
});
