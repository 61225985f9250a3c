import type { Connection } from 'mongoose';
import { MemoryAdaptiveStore } from '../../lib/storage/memory-adaptive.store.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { MongoAdaptiveStore } from '../../lib/storage/mongo/mongo-adaptive.store.js';
import { splitStorage } from '../../lib/storage/split-storage.js';
import { describeMongo, mongoConnections } from '../harness/mongo.js';
import { adaptiveStoreContract, stateAt } from './contracts/adaptive-store.contract.js';

const T0 = Date.UTC(2030, 0, 1);

describe('MemoryAdaptiveStore', () => {
  let store: MemoryAdaptiveStore;
  adaptiveStoreContract('MemoryAdaptiveStore', {
    create: () => Promise.resolve((store = new MemoryAdaptiveStore())),
    createPeer: () => Promise.resolve(store),
  });

  it('is bounded: when full, expired states go first, then the oldest written', () => {
    const own = new MemoryAdaptiveStore({ maxKeys: 3 });
    own.put('old', stateAt(T0), T0 + 1_000);
    own.put('a', stateAt(T0), T0 + 60_000);
    own.put('b', stateAt(T0), T0 + 60_000);
    own.put('c', stateAt(T0 + 2_000), T0 + 60_000);
    expect(own.size).toBe(3);
    expect(own.get('old', T0)).toBeUndefined();
    own.put('d', stateAt(T0 + 2_000), T0 + 60_000);
    expect(own.get('a', T0)).toBeUndefined();
    expect(own.get('d', T0)).toEqual(stateAt(T0 + 2_000));
    expect(() => new MemoryAdaptiveStore({ maxKeys: 0 })).toThrow('maxKeys must be a positive integer');
  });

  it('makes room in constant time when full: churn of new clients never scans every state', () => {
    const full = new MemoryAdaptiveStore();
    for (let i = 0; i < 100_000; i++) full.put(`live-${i}`, stateAt(T0), T0 + 60_000);
    const started = performance.now();
    // Each put evicts: a scan of the 100 000 states per put took about 2 ms, 4 s for these 2 000.
    for (let i = 0; i < 2_000; i++) full.put(`new-${i}`, stateAt(T0), T0 + 60_000);
    expect(performance.now() - started).toBeLessThan(400);
    expect(full.size).toBe(100_000);
    expect(full.get('live-1999', T0)).toBeUndefined();
    expect(full.get('live-2000', T0)).toEqual(stateAt(T0));
    expect(full.get('new-1999', T0)).toEqual(stateAt(T0));
  });

  it('is the adaptive part of memoryStorage(), and of a split storage (from its counters)', () => {
    const counters = memoryStorage();
    expect(counters.adaptive).toBeInstanceOf(MemoryAdaptiveStore);
    expect(splitStorage({ counters, records: memoryStorage() }).adaptive).toBe(counters.adaptive);
  });
});

describeMongo('MongoAdaptiveStore', () => {
  const { connect } = mongoConnections('adaptive_contract');
  let connection: Connection | undefined;
  let collections = 0;
  let current: string;

  adaptiveStoreContract('MongoAdaptiveStore', {
    create: async () => {
      connection ??= await connect();
      current = `rampart_adaptive_${++collections}`;
      const store = new MongoAdaptiveStore(connection, { collectionName: current });
      await store.init();
      return store;
    },
    createPeer: async () => new MongoAdaptiveStore(await connect(), { collectionName: current }),
  });

  it('keeps one document per key with its expiry under a TTL index, and the sweeper deletes expired ones', async () => {
    connection ??= await connect();
    const store = new MongoAdaptiveStore(connection, { collectionName: 'rampart_adaptive_docs' });
    await store.init();
    const indexes = await store.collection.listIndexes().toArray();
    expect(indexes.find((index) => index['name'] === 'e_ttl')).toMatchObject({ key: { e: 1 }, expireAfterSeconds: 0 });
    await store.put('a', stateAt(T0), T0 + 1_000);
    await store.put('b', stateAt(T0), T0 + 9_000);
    const docs = await store.collection.find({}).sort({ _id: 1 }).toArray();
    expect(docs.map((d) => [d._id, (d['e'] as Date).getTime(), d['s']])).toEqual([
      ['a', T0 + 1_000, stateAt(T0)],
      ['b', T0 + 9_000, stateAt(T0)],
    ]);
    expect(await store.sweep(T0 + 1_000)).toBe(1);
    expect(await store.collection.countDocuments({})).toBe(1);
  });
});
