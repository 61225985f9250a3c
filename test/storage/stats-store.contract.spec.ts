import type { Connection } from 'mongoose';
import { MemoryStatsStore } from '../../lib/storage/memory-stats.store.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { MongoStatsStore } from '../../lib/storage/mongo/mongo-stats.store.js';
import { splitStorage } from '../../lib/storage/split-storage.js';
import { describeMongo, mongoConnections } from '../harness/mongo.js';
import { statsStoreContract, summaryOf } from './contracts/stats-store.contract.js';

const T0 = Date.UTC(2030, 0, 1);

describe('MemoryStatsStore', () => {
  let store: MemoryStatsStore;
  statsStoreContract('MemoryStatsStore', {
    create: () => Promise.resolve((store = new MemoryStatsStore())),
    createPeer: () => Promise.resolve(store),
  });

  it('keeps a copy: changing the written object changes nothing stored', async () => {
    const own = new MemoryStatsStore();
    const summary = summaryOf('a', T0, 1);
    await own.put(summary, T0 + 1_000);
    (summary.buckets[0]!.outcomes as number[])[0] = 99;
    expect((await own.list(T0))[0]!.buckets[0]!.outcomes[0]).toBe(1);
  });

  it('is the stats part of memoryStorage(), and of a split storage (from its records)', () => {
    const records = memoryStorage();
    expect(records.stats).toBeInstanceOf(MemoryStatsStore);
    expect(splitStorage({ counters: memoryStorage(), records }).stats).toBe(records.stats);
  });
});

describeMongo('MongoStatsStore', () => {
  const { connect } = mongoConnections('stats_contract');
  let connection: Connection | undefined;
  let collections = 0;
  let current: string;

  statsStoreContract('MongoStatsStore', {
    create: async () => {
      connection ??= await connect();
      current = `rampart_stats_${++collections}`;
      const store = new MongoStatsStore(connection, { collectionName: current });
      await store.init();
      return store;
    },
    // Another instance of the app: a connection of its own to the same collection.
    createPeer: async () => new MongoStatsStore(await connect(), { collectionName: current }),
  });

  it('keeps one document per instance with its expiry under a TTL index, and the sweeper deletes expired ones', async () => {
    connection ??= await connect();
    const store = new MongoStatsStore(connection, { collectionName: 'rampart_stats_docs' });
    await store.init();
    const indexes = await store.collection.listIndexes().toArray();
    expect(indexes.find((index) => index['name'] === 'e_ttl')).toMatchObject({ key: { e: 1 }, expireAfterSeconds: 0 });
    await store.put(summaryOf('a', T0), T0 + 1_000);
    await store.put(summaryOf('a', T0 + 500), T0 + 1_500);
    await store.put(summaryOf('b', T0), T0 + 9_000);
    const docs = await store.collection.find({}).sort({ _id: 1 }).toArray();
    expect(docs.map((d) => [d._id, (d['e'] as Date).getTime()])).toEqual([
      ['a', T0 + 1_500],
      ['b', T0 + 9_000],
    ]);
    // Client keys are array values, never field names: '$gt' is stored as a string.
    expect((docs[0]!['s'] as unknown as { buckets: { keys: unknown[] }[] }).buckets[0]!.keys[0]).toEqual(['$gt', 1]);
    expect(await store.sweep(T0 + 1_500)).toBe(1);
    expect((await store.list(T0)).map((s) => s.instance)).toEqual(['b']);
  });
});
