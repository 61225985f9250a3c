/**
 * The increments of denied window-counter requests given back off the response's path: one write
 * per key at a time, at most maxPendingCompensations in flight, each counted in the store's stats.
 * Commands are counted with the driver's command monitoring.
 */
import type { StoreRule } from '../../lib/index.js';
import { MongoRateLimitStore } from '../../lib/storage/mongo/mongo-rate-limit.store.js';
import { describeMongo, uniqueDbName } from '../harness/mongo.js';
import { monitoredConnections } from './monitored.js';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 1);

describeMongo('MongoRateLimitStore, giving back denied increments', () => {
  const dbName = uniqueDbName('compensations');
  const connections = monitoredConnections(dbName, { upkeep: true });
  afterAll(() => connections.close());
  const monitored = () => connections.open();

  const rule: StoreRule = { name: 'r', algorithm: 'fixed-window', limit: 1, windowMs: 10_000, blockDurationMs: 0 };

  it('sends at most one write per key at a time, summing the denials meanwhile, and counts them', async () => {
    const { connection, commands } = await monitored();
    const store = new MongoRateLimitStore(connection, { collectionName: 'limits_give_back' });
    await store.init();
    expect((await store.consume('burst', rule, T0, 1)).allowed).toBe(true);
    commands.length = 0;
    const answers = await Promise.all(Array.from({ length: 50 }, () => store.consume('burst', rule, T0, 1)));
    await store.flush();
    expect(answers.every((a) => !a.allowed)).toBe(true);
    const writes = commands.filter((c) => c === 'update').length;
    expect(store.stats).toMatchObject({ compensations: 50, compensationWrites: writes, compensationsDropped: 0 });
    expect(writes).toBeLessThanOrEqual(5);
    expect(commands.filter((c) => c === 'findAndModify')).toHaveLength(50);
    // Every denied increment was given back: the key holds the one admitted request.
    expect(await store.get('burst', rule, T0)).toMatchObject({ allowed: false, remaining: 0 });
    expect((await connection.collection('limits_give_back').findOne({ _id: 'burst' as never }))?.[`c${Math.floor(T0 / 10_000)}`]).toBe(1);
  });

  it('drops and counts the increments past maxPendingCompensations writes in flight (0: none given back)', async () => {
    const { connection, commands } = await monitored();
    const store = new MongoRateLimitStore(connection, { collectionName: 'limits_give_back_cap', maxPendingCompensations: 0 });
    await store.init();
    const keys = ['a', 'b', 'c', 'd'];
    for (const key of keys) expect((await store.consume(key, rule, T0, 1)).allowed).toBe(true);
    commands.length = 0;
    await Promise.all(keys.map((key) => store.consume(key, rule, T0, 1)));
    await store.flush();
    expect(store.stats).toMatchObject({ compensations: 4, compensationWrites: 0, compensationsDropped: 4 });
    expect(commands.filter((c) => c === 'update')).toEqual([]);
    // A dropped increment only counts against its key until the window ends: still denied, never admitted.
    for (const key of keys) expect((await store.consume(key, rule, T0, 1)).allowed).toBe(false);
    expect((await store.consume('a', rule, T0 + 10_000, 1)).allowed).toBe(true);
  });

  it('rejects a maxPendingCompensations that is not an integer of 0 or more', async () => {
    const { connection } = await monitored();
    expect(() => new MongoRateLimitStore(connection, { maxPendingCompensations: -1 })).toThrow(
      'MongoRateLimitStore: maxPendingCompensations must be an integer of 0 or more, got -1.',
    );
  });
});
