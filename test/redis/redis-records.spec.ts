/**
 * What the Redis record stores do beyond the shared contracts: their keys, the exactness of the
 * numbers they keep, retention, and the TTLs of lease keys.
 */
import type { Redis } from 'ioredis';

import type { NewBan } from '../../lib/storage/ban-store.interface.js';
import { RedisAccessListStore } from '../../lib/storage/redis/redis-access-list.store.js';
import { RedisBanStore } from '../../lib/storage/redis/redis-ban.store.js';
import { RedisLeaseStore } from '../../lib/storage/redis/redis-lease.store.js';
import { scriptClientOf, type ScriptClient } from '../../lib/storage/redis/redis-script.js';
import { RedisViolationStore } from '../../lib/storage/redis/redis-violation.store.js';
import { describeRedis, redisClients } from '../harness/redis.js';
import { listAll } from '../storage/contracts/list-all.js';

const T0 = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;

const key = (k: string) => ({ type: 'key', key: k }) as const;
const temporary = (k: string, expiresAtMs: number, extra: Partial<NewBan> = {}): NewBan => ({
  target: key(k),
  kind: 'temporary',
  reason: 'r',
  source: 'auto',
  createdBy: 'rampart',
  expiresAtMs,
  violationCount: 1,
  ...extra,
});
const permanent = (k: string): NewBan => ({ target: key(k), kind: 'permanent', reason: 'r', source: 'admin', createdBy: 'alice', violationCount: 1 });
const violation = (k: string, atMs: number) => ({ key: k, rule: 'r', route: 'A.a', method: 'GET', hits: 2, limit: 1, atMs });
const entry = (cidr: string, extra = {}) => ({ cidr, kind: 'deny' as const, createdBy: 'alice', createdAtMs: T0, ...extra });

describeRedis('Redis record stores', () => {
  const redis = redisClients('redis-records');
  let stores = 0;
  let raw: Redis;
  let client: ScriptClient;
  /** A prefix of its own for each test. */
  const fresh = () => `${redis.prefix}${++stores}:`;

  beforeAll(() => {
    raw = redis.connect();
    client = scriptClientOf(raw);
  });

  async function keysUnder(prefix: string): Promise<string[]> {
    return (await raw.keys(`${prefix}*`)).sort();
  }

  describe('keys', () => {
    it('holds each kind of record under its own hash tag, with the types and TTLs documented', async () => {
      const prefix = fresh();
      const bans = new RedisBanStore(client, { prefix });
      const violations = new RedisViolationStore(client, { prefix });
      const accessList = new RedisAccessListStore(client, { prefix });
      const leases = new RedisLeaseStore(client, { prefix });
      await bans.put(temporary('203.0.113.7', T0 + 60_000), T0);
      await violations.record(violation('203.0.113.7', T0));
      await accessList.put(entry('10.0.0.0/8', { expiresAtMs: T0 + DAY }), T0);
      await leases.acquire('ws:203.0.113.7', { id: 'i1:1', holder: 'i1', expiresAtMs: T0 + 30_000 }, 2, T0);

      const layout: Record<string, string> = {};
      for (const name of await keysUnder(prefix)) layout[name.slice(prefix.length)] = await raw.type(name);
      expect(layout).toEqual({
        '{access}:order': 'zset',
        '{access}:purge': 'zset',
        '{access}:records': 'hash',
        '{bans}:order': 'zset',
        '{bans}:purge': 'zset',
        '{bans}:records': 'hash',
        '{leases}:held-by:i1': 'hash',
        '{leases}:holders:ws:203.0.113.7': 'hash',
        '{leases}:pool:ws:203.0.113.7': 'zset',
        '{violations}:key:203.0.113.7': 'zset',
        '{violations}:records': 'hash',
        '{violations}:seq': 'string',
        '{violations}:timeline': 'zset',
      });
      // The hash tag (the text between the first { and the next }) decides the slot: one per kind.
      for (const name of Object.keys(layout)) expect(/^\{(bans|violations|access|leases)\}:/.test(name)).toBe(true);

      // Only lease keys have a TTL: the lease's 30 s plus a day, counted from the app's time, not the server's.
      for (const name of Object.keys(layout)) {
        const ttl = await raw.pttl(prefix + name);
        if (name.startsWith('{leases}')) expect(ttl > DAY && ttl <= DAY + 30_000).toBe(true);
        else expect(ttl).toBe(-1);
      }
      // The ban record is JSON whose values are all strings.
      expect(JSON.parse((await raw.hget(`${prefix}{bans}:records`, 'key:203.0.113.7'))!)).toEqual({
        targetType: 'key',
        target: '203.0.113.7',
        kind: 'temporary',
        reason: 'r',
        source: 'auto',
        createdBy: 'rampart',
        createdAtMs: String(T0),
        expiresAtMs: String(T0 + 60_000),
        violationCount: '1',
        updatedAtMs: String(T0),
        blockCount: '1',
        version: '1',
      });
    });

    it('keeps client keys that hold braces, colons or operators as plain text in key names', async () => {
      const prefix = fresh();
      const violations = new RedisViolationStore(client, { prefix });
      const leases = new RedisLeaseStore(client, { prefix });
      for (const k of ['{other}', 'a:b}', '*', '{"$gt": ""}']) {
        await violations.record(violation(k, T0));
        expect(await violations.count(k, 0)).toBe(1);
        await leases.acquire(k, { id: `${k}#1`, holder: k, expiresAtMs: T0 + 1_000 }, 1, T0);
        expect(await leases.count(k, T0)).toBe(1);
      }
      for (const name of await keysUnder(prefix)) expect(/^\{(violations|leases)\}:/.test(name.slice(prefix.length))).toBe(true);
      expect(await violations.count('other', 0)).toBe(0);
    });

    it('refuses an empty prefix and a retention that is not a positive integer', () => {
      expect(() => new RedisBanStore(client, { prefix: '' })).toThrow(/RedisBanStore: prefix must be a non-empty string/);
      expect(() => new RedisLeaseStore(client, { prefix: 5 as unknown as string })).toThrow(TypeError);
      expect(() => new RedisBanStore(client, { historyRetentionMs: 0 })).toThrow(/historyRetentionMs must be a positive integer/);
      expect(() => new RedisViolationStore(client, { retentionMs: 1.5 })).toThrow(/retentionMs must be a positive integer/);
    });
  });

  describe('numbers and text', () => {
    it('keeps fractional, large and negative times exactly, and orders by them', async () => {
      const prefix = fresh();
      const bans = new RedisBanStore(client, { prefix });
      const at = T0 + 0.123456789;
      const put = await bans.put(temporary('f', 2 ** 52 + 0.5, { violationCount: 7 }), at);
      expect(put).toMatchObject({ createdAtMs: at, updatedAtMs: at, expiresAtMs: 2 ** 52 + 0.5 });
      expect(await bans.get(key('f'))).toStrictEqual(put);
      const lifted = await bans.lift(key('f'), 'bob', at + 0.25);
      expect(lifted).toMatchObject({ liftedAtMs: at + 0.25, updatedAtMs: at + 0.25, createdAtMs: at, expiresAtMs: 2 ** 52 + 0.5, version: 2 });
      await bans.put(permanent('g'), at + 0.125);
      expect((await bans.changedSince(at + 0.2, 10)).map((b) => b.id)).toEqual(['key:f']);
      expect((await bans.changedSince(at + 0.125, 10)).map((b) => b.id)).toEqual(['key:g', 'key:f']);

      const violations = new RedisViolationStore(client, { prefix });
      const times = [-1e15, -1.5, -0.25, 0, 0.25, 3, T0 + 0.5, 1e15 + 0.5];
      for (const t of [...times].reverse()) await violations.record(violation('v', t));
      expect((await violations.list({}, { limit: 20 })).items.map((v) => v.atMs)).toEqual([...times].reverse());
      expect(await violations.count('v', -0.25)).toBe(6);
      expect(await violations.count('v', -0.2)).toBe(5);
      expect((await violations.list({ fromMs: -1.5, toMs: 0.25 }, { limit: 20 })).items.map((v) => v.atMs)).toEqual([0, -0.25, -1.5]);

      const accessList = new RedisAccessListStore(client, { prefix });
      const stored = await accessList.put(entry('192.0.2.0/24', { createdAtMs: at, expiresAtMs: at + 1e-3 }), at);
      expect(await accessList.list()).toStrictEqual([stored]);
    });

    it('keeps text exactly: quotes, backslashes, slashes, JSON and non-Latin characters', async () => {
      const prefix = fresh();
      const bans = new RedisBanStore(client, { prefix });
      const text = 'a "quoted" \\ back/slash \n {"$gt":""} 日本語 😀 \u0000';
      const ban = await bans.put({ ...permanent(text), reason: text }, T0);
      expect(ban).toMatchObject({ id: `key:${text}`, reason: text, target: { type: 'key', key: text } });
      expect(await bans.lift(key(text), text, T0 + 1)).toMatchObject({ reason: text, liftedBy: text });
      const violations = new RedisViolationStore(client, { prefix });
      await violations.record({ ...violation(text, T0), route: text });
      expect((await violations.list({ key: text }, { limit: 5 })).items).toEqual([{ ...violation(text, T0), route: text }]);
    });

    it('stores a lone UTF-16 surrogate as U+FFFD, as Redis would receive it anyway', async () => {
      const prefix = fresh();
      const violations = new RedisViolationStore(client, { prefix });
      await violations.record(violation('k\uD800', T0));
      expect((await violations.list({}, { limit: 5 })).items[0]?.key).toBe('k\uFFFD');
      expect(await violations.count('k\uD800', 0)).toBe(1);
      expect(await violations.purge(T0 + 1)).toBe(1);
      expect(await keysUnder(`${prefix}{violations}:key:`)).toEqual([]);
    });
  });

  describe('violation pages', () => {
    it('pages within fromMs and toMs, the cursor and toMs both bounding from above', async () => {
      const violations = new RedisViolationStore(client, { prefix: fresh() });
      for (let i = 0; i < 10; i++) await violations.record({ ...violation(i % 2 ? 'a' : 'b', T0 + Math.floor(i / 2)), hits: i });
      const { items, pages } = await listAll(violations.list.bind(violations), { fromMs: T0 + 1, toMs: T0 + 4 }, 2);
      expect(items.map((v) => v.hits)).toEqual([7, 6, 5, 4, 3, 2]);
      expect(pages).toBe(3);
      const ruled = await listAll(violations.list.bind(violations), { key: 'a', rule: 'r', toMs: T0 + 3 }, 1);
      expect(ruled.items.map((v) => v.hits)).toEqual([5, 3, 1]);
    });
  });

  describe('violation retention', () => {
    it('forgets a few violations older than retentionMs on each record, and purge forgets the rest', async () => {
      const prefix = fresh();
      const violations = new RedisViolationStore(client, { prefix, retentionMs: DAY });
      for (let i = 0; i < 20; i++) await violations.record(violation(`old-${i % 4}`, T0 + i));
      await violations.record(violation('new', T0 + 2 * DAY));
      const left = (await violations.list({}, { limit: 100 })).items.length;
      expect(left).toBeLessThan(21);
      expect(left).toBeGreaterThan(1);
      expect(await violations.purge(T0 + DAY)).toBe(left - 1);
      expect((await violations.list({}, { limit: 100 })).items.map((v) => v.key)).toEqual(['new']);
      // Emptied indexes go away with their last member.
      expect((await keysUnder(prefix)).map((k) => k.slice(prefix.length))).toEqual([
        '{violations}:key:new',
        '{violations}:records',
        '{violations}:seq',
        '{violations}:timeline',
      ]);
    });

    it('purges and deletes a key in batches, however many there are', async () => {
      const prefix = fresh();
      const violations = new RedisViolationStore(client, { prefix });
      await Promise.all(Array.from({ length: 2_500 }, (_, i) => violations.record(violation(i % 2 ? 'odd' : 'even', T0 + i))));
      expect(await violations.count('odd', 0)).toBe(1_250);
      expect(await violations.deleteByKey('odd')).toBe(1_250);
      expect(await violations.purge(T0 + 2_500)).toBe(1_250);
      expect(await keysUnder(prefix)).toEqual([`${prefix}{violations}:seq`]);
    });
  });

  describe('ban and access-list history', () => {
    it('forgets ended records after their history retention, on sweep or on later writes, never one in force', async () => {
      const prefix = fresh();
      const bans = new RedisBanStore(client, { prefix, historyRetentionMs: DAY });
      await bans.put(temporary('expired', T0 + 1), T0); // forgotten at T0 + 1 + DAY
      await bans.put(temporary('active', T0 + 10 * DAY), T0); // at T0 + 11 DAY
      await bans.put(permanent('permanent'), T0); // never
      await bans.put(permanent('lifted'), T0);
      await bans.lift(key('lifted'), 'bob', T0 + 5); // at T0 + 5 + DAY
      await bans.put(temporary('lifted-early', T0 + 3 * DAY), T0);
      await bans.lift(key('lifted-early'), 'bob', T0); // at T0 + 4 DAY, after its expiry
      const ids = async () => (await bans.list({}, { limit: 10 })).items.map((b) => b.id).sort();

      expect(await bans.sweep(T0 + DAY)).toBe(0);
      // A write forgets what is past retention at its time.
      await bans.put(permanent('writer'), T0 + DAY + 10);
      expect(await ids()).toEqual(['key:active', 'key:lifted-early', 'key:permanent', 'key:writer']);
      expect(await bans.get(key('expired'))).toBeNull();
      expect(await bans.changedSince(0, 100)).toHaveLength(4);
      expect(await bans.sweep(T0 + 4 * DAY)).toBe(1);
      expect(await bans.sweep(T0 + 1000 * DAY)).toBe(1);
      expect(await ids()).toEqual(['key:permanent', 'key:writer']);
      // A ban put again is in force again: it leaves the purge set.
      await bans.put(temporary('again', T0 + 1), T0);
      await bans.put(permanent('again'), T0 + 2);
      expect(await bans.sweep(T0 + 1000 * DAY)).toBe(0);
      expect(await bans.get(key('again'))).toMatchObject({ kind: 'permanent', blockCount: 1 });
    });

    it('forgets removed and expired access-list entries after their history retention', async () => {
      const prefix = fresh();
      const accessList = new RedisAccessListStore(client, { prefix, historyRetentionMs: DAY });
      await accessList.put(entry('10.0.0.1', { expiresAtMs: T0 + 1 }), T0); // forgotten at T0 + 1 + DAY
      await accessList.put(entry('10.0.0.2'), T0);
      await accessList.remove('deny', '10.0.0.2', T0 + 2); // at T0 + 2 + DAY
      await accessList.put(entry('10.0.0.3', { expiresAtMs: T0 + 3 * DAY }), T0);
      await accessList.remove('deny', '10.0.0.3', T0 + 3); // removed before its expiry: at T0 + 3 + DAY
      await accessList.put(entry('10.0.0.4'), T0); // never
      expect(await accessList.sweep(T0 + DAY)).toBe(0);
      expect(await accessList.sweep(T0 + DAY + 10)).toBe(3);
      expect((await accessList.changedSince(0, 10)).map((e) => e.cidr)).toEqual(['10.0.0.4/32']);
    });
  });

  describe('conditional ban puts from several instances', () => {
    it('lets exactly one of concurrent puts from one version write, over separate connections', async () => {
      const prefix = fresh();
      const instances = [client, scriptClientOf(redis.connect()), scriptClientOf(redis.connect())].map((c) => new RedisBanStore(c, { prefix }));
      const base = await instances[0]!.put(temporary('race', T0 + 1_000), T0);
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => instances[i % 3]!.put(temporary('race', T0 + 2_000 + i), T0 + 1, { expectedVersion: base.version! })),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await instances[1]!.get(key('race'))).toMatchObject({ version: 2, blockCount: 2 });
    });
  });

  describe('lease keys', () => {
    it('moves TTLs with renewals (never shortening one) and drops what a holder no longer holds', async () => {
      const prefix = fresh();
      const leases = new RedisLeaseStore(client, { prefix });
      const pool = `${prefix}{leases}:pool:p`;
      const mine = `${prefix}{leases}:held-by:h`;
      await leases.acquire('p', { id: 'h:1', holder: 'h', expiresAtMs: T0 + 10_000 }, 5, T0);
      await leases.acquire('p', { id: 'h:2', holder: 'h', expiresAtMs: T0 + 1_000 }, 5, T0);
      expect(await raw.pttl(pool)).toBeGreaterThan(DAY + 9_000);
      await leases.release('p', 'h:1');
      expect(await raw.hkeys(mine)).toEqual(['h:2']);
      // h:2 lapsed at T0 + 1 000: renewing at T0 + 2 000 drops it instead of reviving it.
      await leases.renew('h', T0 + 2_000, T0 + 60_000);
      expect(await raw.exists(mine, pool, `${prefix}{leases}:holders:p`)).toBe(0);

      await leases.acquire('p', { id: 'h:3', holder: 'h', expiresAtMs: T0 + 1_000 }, 5, T0);
      await leases.renew('h', T0 + 500, T0 + 3_600_000);
      expect(await raw.pttl(pool)).toBeGreaterThan(DAY + 3_500_000);
      await leases.renew('h', T0 + 600, T0 + 1_600);
      expect(await raw.pttl(pool)).toBeGreaterThan(DAY + 3_500_000);
      expect(await leases.count('p', T0 + 1_599)).toBe(1);
      expect(await leases.count('p', T0 + 1_600)).toBe(0);
    });

    it("drops a lapsed lease from its holder's index when another acquire makes room", async () => {
      const prefix = fresh();
      const leases = new RedisLeaseStore(client, { prefix });
      await leases.acquire('p', { id: 'dead:1', holder: 'dead', expiresAtMs: T0 + 1_000 }, 1, T0);
      expect(await leases.acquire('p', { id: 'alive:1', holder: 'alive', expiresAtMs: T0 + 5_000 }, 1, T0 + 1_000)).toEqual({ acquired: true, held: 1 });
      expect(await raw.exists(`${prefix}{leases}:held-by:dead`)).toBe(0);
      expect(await raw.hgetall(`${prefix}{leases}:holders:p`)).toEqual({ 'alive:1': 'alive' });
      await leases.releaseHolder('alive');
      expect(await keysUnder(prefix)).toEqual([]);
    });

    it('refuses a limit, key or lease of the wrong kind before any command', async () => {
      const leases = new RedisLeaseStore(client, { prefix: fresh() });
      const lease = { id: 'x:1', holder: 'x', expiresAtMs: T0 };
      await expect(leases.acquire('k', lease, 0, T0)).rejects.toThrow(/limit must be a positive integer/);
      await expect(leases.acquire('', lease, 1, T0)).rejects.toThrow(/lease key must be a non-empty string/);
      await expect(leases.acquire('k', { ...lease, id: { $gt: '' } as unknown as string }, 1, T0)).rejects.toThrow(TypeError);
      await expect(leases.count('k', Number.NaN)).rejects.toThrow(TypeError);
    });
  });
});
