import { MemoryAccessListStore } from '../../lib/storage/memory-access-list.store.js';
import { MemoryBanStore } from '../../lib/storage/memory-ban.store.js';
import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { MemoryViolationStore } from '../../lib/storage/memory-violation.store.js';
import type { Violation } from '../../lib/storage/violation-store.interface.js';
import { accessListStoreContract } from './contracts/access-list-store.contract.js';
import { banStoreContract } from './contracts/ban-store.contract.js';
import { violationStoreContract } from './contracts/violation-store.contract.js';

const T0 = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;

banStoreContract('MemoryBanStore', () => new MemoryBanStore());
violationStoreContract('MemoryViolationStore', () => new MemoryViolationStore());
accessListStoreContract('MemoryAccessListStore', () => new MemoryAccessListStore());

function violation(key: string, atMs: number): Violation {
  return { key, rule: 'r', route: 'A.a', method: 'GET', hits: 2, limit: 1, atMs };
}

describe('MemoryViolationStore bounds', () => {
  it('keeps at most maxEvents, dropping the oldest, and keeps counts and listing consistent', async () => {
    const store = new MemoryViolationStore({ maxEvents: 5 });
    for (let i = 0; i < 12; i++) await store.record(violation(i % 2 === 0 ? 'even' : 'odd', T0 + i));
    expect(store.size).toBe(5);
    expect((await store.list({}, { limit: 10 })).items.map((v) => v.atMs - T0)).toEqual([11, 10, 9, 8, 7]);
    expect(await store.count('even', 0)).toBe(2);
    expect(await store.count('odd', 0)).toBe(3);
  });

  it('drops the oldest by time even when violations arrive out of order', async () => {
    const store = new MemoryViolationStore({ maxEvents: 3 });
    for (const at of [5, 1, 4, 2, 3]) await store.record(violation('k', T0 + at));
    expect((await store.list({}, { limit: 10 })).items.map((v) => v.atMs - T0)).toEqual([5, 4, 3]);
  });

  it('drops violations older than retentionMs as newer ones arrive', async () => {
    const store = new MemoryViolationStore({ retentionMs: DAY });
    await store.record(violation('old', T0));
    await store.record(violation('new', T0 + DAY));
    expect(store.size).toBe(2);
    await store.record(violation('new', T0 + DAY + 1));
    expect(store.size).toBe(2);
    expect(await store.count('old', 0)).toBe(0);
  });

  it('stays consistent over many drops (compaction of its arrays)', async () => {
    const store = new MemoryViolationStore({ maxEvents: 100 });
    for (let i = 0; i < 5_000; i++) await store.record(violation(`k${i % 7}`, T0 + i));
    expect(store.size).toBe(100);
    const all = (await store.list({}, { limit: 500 })).items;
    expect(all.map((v) => v.atMs - T0)).toEqual(Array.from({ length: 100 }, (_, i) => 4_999 - i));
    let total = 0;
    for (let k = 0; k < 7; k++) total += await store.count(`k${k}`, 0);
    expect(total).toBe(100);
    expect(await store.purge(T0 + 4_950)).toBe(50);
    expect(await store.deleteByKey('k0')).toBe(all.filter((v) => v.key === 'k0' && v.atMs >= T0 + 4_950).length);
  });

  it('rejects options that are not positive integers', () => {
    expect(() => new MemoryViolationStore({ maxEvents: 0 })).toThrow(/maxEvents must be a positive integer/);
    expect(() => new MemoryViolationStore({ retentionMs: -1 })).toThrow(/retentionMs must be a positive integer/);
  });
});

describe('MemoryBanStore bounds', () => {
  const temporary = (key: string, expiresAtMs: number) =>
    ({ target: { type: 'key', key }, kind: 'temporary', reason: '', source: 'auto', createdBy: 'rampart', expiresAtMs, violationCount: 1 }) as const;

  it('evicts a ban no longer in force before one in force past maxRecords', async () => {
    const store = new MemoryBanStore({ maxRecords: 3 });
    await store.put(temporary('active-1', T0 + DAY), T0);
    await store.put(temporary('expired', T0 + 1), T0);
    await store.put(temporary('active-2', T0 + DAY), T0);
    await store.put(temporary('active-3', T0 + DAY), T0 + 10);
    expect(store.size).toBe(3);
    expect(await store.get({ type: 'key', key: 'expired' })).toBeNull();
    expect(await store.get({ type: 'key', key: 'active-1' })).not.toBeNull();
  });

  it('evicts the least recently changed ban when every ban is in force', async () => {
    const store = new MemoryBanStore({ maxRecords: 2 });
    for (const key of ['a', 'b', 'c']) await store.put(temporary(key, T0 + DAY), T0);
    expect(await store.get({ type: 'key', key: 'a' })).toBeNull();
    expect(store.size).toBe(2);
  });

  it("never evicts an operator's ban in force: the least recently changed automatic one goes instead", async () => {
    const store = new MemoryBanStore({ maxRecords: 3 });
    const operator = {
      target: { type: 'key', key: 'fraudster' },
      kind: 'permanent',
      reason: 'fraud',
      source: 'admin',
      createdBy: 'alice',
      violationCount: 0,
    } as const;
    await store.put(operator, T0);
    for (let i = 0; i < 10; i++) await store.put(temporary(`sprayed-${i}`, T0 + DAY), T0 + 1 + i);
    expect(store.size).toBe(3);
    expect(await store.get({ type: 'key', key: 'fraudster' })).toMatchObject({ kind: 'permanent', source: 'admin' });
    expect(await store.get({ type: 'key', key: 'sprayed-9' })).not.toBeNull();
    expect(await store.get({ type: 'key', key: 'sprayed-0' })).toBeNull();
  });

  it("refuses a new record rather than evict an operator's ban when every other record is one", async () => {
    const store = new MemoryBanStore({ maxRecords: 2 });
    const ban = (key: string) =>
      ({ target: { type: 'key', key }, kind: 'permanent', reason: 'r', source: 'admin', createdBy: 'alice', violationCount: 0 }) as const;
    await store.put(ban('a'), T0);
    await store.put(ban('b'), T0);
    await expect(store.put(temporary('c', T0 + DAY), T0 + 1)).rejects.toThrow(/maxRecords \(2\).*operator's ban in force/);
    await expect(store.put(ban('c'), T0 + 1)).rejects.toThrow(RangeError);
    expect((await store.changedSince(0, 10)).map((b) => b.id)).toEqual(['key:a', 'key:b']);
    // Replacing a record needs no room; once one is lifted it can make room.
    await store.lift({ type: 'key', key: 'a' }, 'bob', T0 + 2);
    await store.put(temporary('c', T0 + DAY), T0 + 3);
    expect(await store.get({ type: 'key', key: 'a' })).toBeNull();
    expect(await store.get({ type: 'key', key: 'b' })).not.toBeNull();
  });

  it('answers changedSince from its log of writes, superseded entries and compactions included', async () => {
    const store = new MemoryBanStore();
    for (let i = 0; i < 2_000; i++) await store.put(temporary(`k${i}`, T0 + DAY), T0 + i);
    // Rewrites: the log outgrows twice the records and is compacted.
    for (let i = 0; i < 3_500; i++) await store.put(temporary(`k${i % 2_000}`, T0 + DAY), T0 + 2_000 + i);
    const recent = await store.changedSince(T0 + 5_490, 100);
    expect(recent.map((b) => b.id)).toEqual(Array.from({ length: 10 }, (_, i) => `key:k${1_490 + i}`));
    expect(recent.every((b) => b.blockCount === 3)).toBe(true);
    expect((await store.changedSince(T0 + 3_999, 3)).map((b) => [b.id, b.blockCount])).toEqual([
      ['key:k1999', 2],
      ['key:k0', 3],
      ['key:k1', 3],
    ]);
  });

  it('forgets an ended ban once its history retention is over, without a timer', async () => {
    const store = new MemoryBanStore({ historyRetentionMs: DAY });
    await store.put(temporary('old', T0 + 1), T0);
    await store.put(temporary('x', T0 + 2 * DAY), T0 + DAY);
    expect(await store.get({ type: 'key', key: 'old' })).not.toBeNull();
    await store.put(temporary('y', T0 + 2 * DAY), T0 + DAY + 1);
    expect(await store.get({ type: 'key', key: 'old' })).toBeNull();
  });
});

describe('MemoryAccessListStore bounds', () => {
  const entry = (cidr: string, extra = {}) => ({ cidr, kind: 'deny' as const, createdBy: 'alice', createdAtMs: T0, ...extra });

  it('makes room by dropping a removed entry, and refuses a new entry when every entry is in force', async () => {
    const store = new MemoryAccessListStore({ maxEntries: 2 });
    await store.put(entry('10.0.0.1'), T0);
    await store.put(entry('10.0.0.2'), T0);
    await store.remove('deny', '10.0.0.1', T0 + 1);
    await store.put(entry('10.0.0.3'), T0 + 2);
    expect(store.size).toBe(2);
    await expect(store.put(entry('10.0.0.4'), T0 + 3)).rejects.toThrow(/maxEntries \(2\)/);
    expect((await store.list()).map((e) => e.cidr)).toEqual(['10.0.0.2/32', '10.0.0.3/32']);
    // Replacing an entry needs no room.
    await store.put(entry('10.0.0.3', { note: 'updated' }), T0 + 4);
    expect(store.size).toBe(2);
  });

  it('drops an expired entry to make room', async () => {
    const store = new MemoryAccessListStore({ maxEntries: 1 });
    await store.put(entry('10.0.0.1', { expiresAtMs: T0 + 1 }), T0);
    await store.put(entry('10.0.0.2'), T0 + 5);
    expect((await store.list()).map((e) => e.cidr)).toEqual(['10.0.0.2/32']);
  });
});

describe('memoryStorage()', () => {
  it('returns the four memory stores, with their options', async () => {
    const storage = memoryStorage({ rateLimits: { maxKeys: 7 }, violations: { maxEvents: 1 } });
    expect(storage.rateLimits).toBeInstanceOf(MemoryRateLimitStore);
    expect(storage.bans).toBeInstanceOf(MemoryBanStore);
    expect(storage.violations).toBeInstanceOf(MemoryViolationStore);
    expect(storage.accessList).toBeInstanceOf(MemoryAccessListStore);
    await storage.violations.record(violation('a', T0));
    await storage.violations.record(violation('b', T0 + 1));
    expect(storage.violations.size).toBe(1);
    expect(storage.init).toBeUndefined();
  });

  it('gives each call its own stores', () => {
    expect(memoryStorage().bans).not.toBe(memoryStorage().bans);
  });
});
