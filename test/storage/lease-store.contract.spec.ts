import { MemoryLeaseStore } from '../../lib/storage/memory-lease.store.js';
import { MongoLeaseStore } from '../../lib/storage/mongo/mongo-lease.store.js';
import { describeMongo, mongoConnections } from '../harness/mongo.js';
import { leaseStoreContract } from './contracts/lease-store.contract.js';

describe('MemoryLeaseStore', () => {
  const store = new MemoryLeaseStore();
  leaseStoreContract('MemoryLeaseStore', { create: () => Promise.resolve(store), createPeer: () => Promise.resolve(store) });
});

describeMongo('MongoLeaseStore', () => {
  const { connect } = mongoConnections('lease_contract');

  leaseStoreContract('MongoLeaseStore', {
    create: async () => {
      const store = new MongoLeaseStore(await connect());
      await store.init();
      return store;
    },
    createPeer: async () => new MongoLeaseStore(await connect()),
  });

  it('deletes pools whose every lease lapsed when swept', async () => {
    const store = new MongoLeaseStore(await connect(), { collectionName: 'rampart_leases_sweep' });
    await store.init();
    const T0 = Date.UTC(2030, 0, 1);
    await store.acquire('swept', { id: 'x:1', holder: 'x', expiresAtMs: T0 + 1_000 }, 1, T0);
    await store.acquire('kept', { id: 'x:2', holder: 'x', expiresAtMs: T0 + 9_000 }, 1, T0);
    expect(await store.sweep(T0 + 1_000)).toBe(1);
    expect(await store.count('kept', T0 + 1_000)).toBe(1);
  });

  it('refuses a limit that is not a positive integer, before any command', async () => {
    const store = new MongoLeaseStore(await connect());
    await expect(store.acquire('k', { id: 'x:3', holder: 'x', expiresAtMs: 1 }, 0, 0)).rejects.toThrow(/limit must be a positive integer/);
  });
});
