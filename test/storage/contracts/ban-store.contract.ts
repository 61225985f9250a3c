/**
 * The BanStore contract: every implementation passes this suite. `create` returns a store holding
 * nothing (called before each test).
 */
import { isBanActive, type Ban, type BanStore, type BanTarget, type NewBan } from '../../../lib/storage/ban-store.interface.js';
import { listAll } from './list-all.js';

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;

const key = (k: string): BanTarget => ({ type: 'key', key: k });
const cidr = (c: string): BanTarget => ({ type: 'cidr', cidr: c });

function temporary(target: BanTarget, expiresAtMs: number, extra: Partial<NewBan> = {}): NewBan {
  return { target, kind: 'temporary', reason: 'too many requests', source: 'auto', createdBy: 'rampart', expiresAtMs, violationCount: 3, ...extra };
}

function permanent(target: BanTarget, extra: Partial<NewBan> = {}): NewBan {
  return { target, kind: 'permanent', reason: 'abuse', source: 'admin', createdBy: 'alice', violationCount: 10, ...extra };
}

export interface BanStoreContractOptions {
  /**
   * Whether each of concurrent puts returns the record as its own write left it (distinct block
   * counts). True of MongoDB and of the memory store; the mongo-java-server stand-in applies every
   * `$inc` but may hand two concurrent `findOneAndUpdate` calls the same later state.
   * @default true
   */
  readonly exactConcurrentResults?: boolean;
}

export function banStoreContract(name: string, create: () => Promise<BanStore> | BanStore, options: BanStoreContractOptions = {}): void {
  const exactConcurrentResults = options.exactConcurrentResults ?? true;
  describe(`BanStore contract: ${name}`, () => {
    let store: BanStore;

    beforeEach(async () => {
      store = await create();
    });

    describe('put and get', () => {
      it('creates a temporary ban with blockCount 1 and reads it back', async () => {
        const ban = await store.put(temporary(key('203.0.113.7'), T0 + MINUTE), T0);
        const expected: Ban = {
          id: 'key:203.0.113.7',
          target: { type: 'key', key: '203.0.113.7' },
          kind: 'temporary',
          reason: 'too many requests',
          source: 'auto',
          createdBy: 'rampart',
          createdAtMs: T0,
          expiresAtMs: T0 + MINUTE,
          violationCount: 3,
          blockCount: 1,
          updatedAtMs: T0,
          version: 1,
        };
        expect(ban).toStrictEqual(expected);
        expect(await store.get(key('203.0.113.7'))).toStrictEqual(expected);
      });

      it('creates a permanent ban with blockCount 0 and no expiry', async () => {
        const ban = await store.put(permanent(key('user:42')), T0);
        expect(ban).toMatchObject({ id: 'key:user:42', kind: 'permanent', blockCount: 0, source: 'admin', createdBy: 'alice' });
        expect(ban.expiresAtMs).toBeUndefined();
        expect('expiresAtMs' in ban).toBe(false);
      });

      it('returns null for an unknown target', async () => {
        expect(await store.get(key('nobody'))).toBeNull();
        expect(await store.get(cidr('192.0.2.0/24'))).toBeNull();
      });

      it('replaces the ban of a target and grows blockCount with each temporary ban', async () => {
        const target = key('198.51.100.1');
        expect((await store.put(temporary(target, T0 + MINUTE), T0)).blockCount).toBe(1);
        const second = await store.put(temporary(target, T0 + 10 * MINUTE, { reason: 'again', violationCount: 6 }), T0 + 2 * MINUTE);
        expect(second).toMatchObject({ blockCount: 2, reason: 'again', violationCount: 6, expiresAtMs: T0 + 10 * MINUTE });
        expect(second).toMatchObject({ createdAtMs: T0 + 2 * MINUTE, updatedAtMs: T0 + 2 * MINUTE });

        // A permanent ban keeps the count and drops the expiry; the next temporary one counts on.
        const perm = await store.put(permanent(target), T0 + 3 * MINUTE);
        expect(perm).toMatchObject({ kind: 'permanent', blockCount: 2 });
        expect('expiresAtMs' in perm).toBe(false);
        expect((await store.put(temporary(target, T0 + 20 * MINUTE), T0 + 4 * MINUTE)).blockCount).toBe(3);
        expect((await store.get(target))?.blockCount).toBe(3);
      });

      it('counts every one of concurrent temporary bans of one target (atomic, no lost update)', async () => {
        const target = key('race');
        const bans = await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(temporary(target, T0 + MINUTE), T0 + i)));
        expect((await store.get(target))?.blockCount).toBe(20);
        const counts = bans.map((b) => b.blockCount).sort((a, b) => a - b);
        if (exactConcurrentResults) expect(counts).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        else for (const count of counts) expect(count >= 1 && count <= 20).toBe(true);
      });

      it('stores CIDR targets canonical, with id cidr:<canonical cidr>', async () => {
        expect((await store.put(permanent(cidr('10.0.0.0/8')), T0)).id).toBe('cidr:10.0.0.0/8');
        const single = await store.put(permanent(cidr('192.0.2.1')), T0);
        expect(single).toMatchObject({ id: 'cidr:192.0.2.1/32', target: { type: 'cidr', cidr: '192.0.2.1/32' } });
        const v6 = await store.put(permanent(cidr('2001:DB8:0:0::1')), T0);
        expect(v6).toMatchObject({ id: 'cidr:2001:db8::1/128', target: { type: 'cidr', cidr: '2001:db8::1/128' } });
        expect((await store.get(cidr('2001:db8::1/128')))?.id).toBe('cidr:2001:db8::1/128');
        expect((await store.get(cidr('192.0.2.1/32')))?.id).toBe('cidr:192.0.2.1/32');
      });

      it('refuses a CIDR with host bits set, and text that is not an address', async () => {
        await expect(store.put(permanent(cidr('10.0.0.5/8')), T0)).rejects.toThrow(RangeError);
        await expect(store.put(permanent(cidr('10.0.0.5/8')), T0)).rejects.toThrow(/10\.0\.0\.0\/8/);
        await expect(store.put(permanent(cidr('not-an-ip')), T0)).rejects.toThrow(TypeError);
        await expect(store.put(permanent(cidr('10.0.0.0/33')), T0)).rejects.toThrow(RangeError);
      });

      it('refuses a temporary ban without expiry and a permanent ban with one', async () => {
        await expect(store.put({ ...temporary(key('a'), 0), expiresAtMs: undefined }, T0)).rejects.toThrow(TypeError);
        await expect(store.put({ ...permanent(key('a')), expiresAtMs: T0 + MINUTE }, T0)).rejects.toThrow(TypeError);
        await expect(store.put(temporary(key(''), T0 + MINUTE), T0)).rejects.toThrow(TypeError);
      });
    });

    describe('versions and conditional put', () => {
      it('increments the version with every write of the record: put, lift, forgetting blocks', async () => {
        const target = key('v');
        expect((await store.put(temporary(target, T0 + MINUTE), T0)).version).toBe(1);
        expect((await store.put(permanent(target), T0 + 1)).version).toBe(2);
        expect((await store.lift(target, 'bob', T0 + 2))?.version).toBe(3);
        // A second lift changes nothing, so neither does it change the version.
        expect((await store.lift(target, 'carol', T0 + 3))?.version).toBe(3);
        expect((await store.lift(target, 'carol', T0 + 4, { forgetBlocks: true }))?.version).toBe(4);
        expect((await store.get(target))?.version).toBe(4);
        // Removed, the target starts again from no record.
        await store.remove(target);
        expect((await store.put(temporary(target, T0 + MINUTE), T0 + 5)).version).toBe(1);
      });

      it('expectedVersion null writes only where the target has no record', async () => {
        const target = key('first');
        const first = await store.put(temporary(target, T0 + MINUTE), T0, { expectedVersion: null });
        expect(first).toMatchObject({ id: 'key:first', kind: 'temporary', blockCount: 1, version: 1, updatedAtMs: T0 });
        expect(await store.get(target)).toStrictEqual(first);

        // A record exists now: the precondition fails and nothing is written.
        expect(await store.put(temporary(target, T0 + 10 * MINUTE), T0 + 1, { expectedVersion: null })).toBeNull();
        expect(await store.put(permanent(target), T0 + 1, { expectedVersion: null })).toBeNull();
        expect(await store.get(target)).toStrictEqual(first);

        // A lifted record is still a record.
        await store.lift(target, 'bob', T0 + 2);
        expect(await store.put(temporary(target, T0 + MINUTE), T0 + 3, { expectedVersion: null })).toBeNull();
        expect((await store.get(target))?.blockCount).toBe(1);
      });

      it('a numeric expectedVersion writes only while the record is at that version', async () => {
        const target = key('cas');
        const first = await store.put(temporary(target, T0 + MINUTE), T0);
        const second = await store.put(temporary(target, T0 + 10 * MINUTE), T0 + 1, { expectedVersion: first.version! });
        expect(second).toMatchObject({ blockCount: 2, version: 2, expiresAtMs: T0 + 10 * MINUTE, updatedAtMs: T0 + 1 });

        // Decided from version 1, which is gone: refused, the record stays as it is.
        expect(await store.put(temporary(target, T0 + 20 * MINUTE), T0 + 2, { expectedVersion: 1 })).toBeNull();
        expect(await store.put(permanent(target), T0 + 2, { expectedVersion: 1 })).toBeNull();
        expect(await store.put(permanent(target), T0 + 2, { expectedVersion: 3 })).toBeNull();
        expect(await store.get(target)).toStrictEqual(second);

        // A lift moves the version on: a decision made from the record before it no longer applies.
        const lifted = await store.lift(target, 'bob', T0 + 3);
        expect(await store.put(temporary(target, T0 + 20 * MINUTE), T0 + 4, { expectedVersion: 2 })).toBeNull();
        expect(await store.get(target)).toStrictEqual(lifted);
        const after = await store.put(permanent(target), T0 + 5, { expectedVersion: lifted!.version! });
        expect(after).toMatchObject({ kind: 'permanent', blockCount: 2, version: 4 });
        expect(after !== null && 'liftedAtMs' in after).toBe(false);
      });

      it('a numeric expectedVersion never recreates a removed record', async () => {
        const target = key('gone');
        const ban = await store.put(temporary(target, T0 + MINUTE), T0);
        await store.remove(target);
        expect(await store.put(temporary(target, T0 + MINUTE), T0 + 1, { expectedVersion: ban.version! })).toBeNull();
        expect(await store.get(target)).toBeNull();
        expect(await store.put(temporary(target, T0 + MINUTE), T0 + 1, { expectedVersion: 0 })).toBeNull();
        expect(await store.get(target)).toBeNull();
      });

      it('lets exactly one of concurrent conditional puts from one version write', async () => {
        const fresh = key('race-new');
        const fromNothing = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.put(temporary(fresh, T0 + MINUTE + i), T0, { expectedVersion: null })),
        );
        const wonFromNothing = fromNothing.filter((b) => b !== null);
        expect(wonFromNothing).toHaveLength(1);
        expect(await store.get(fresh)).toMatchObject({ blockCount: 1, version: 1, expiresAtMs: wonFromNothing[0]!.expiresAtMs });

        const existing = key('race-existing');
        const base = await store.put(temporary(existing, T0 + MINUTE), T0);
        const fromBase = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.put(i % 2 === 0 ? temporary(existing, T0 + 10 * MINUTE) : permanent(existing), T0 + 1, { expectedVersion: base.version! }),
          ),
        );
        const wonFromBase = fromBase.filter((b) => b !== null);
        expect(wonFromBase).toHaveLength(1);
        const stored = await store.get(existing);
        expect(stored).toMatchObject({ version: 2, kind: wonFromBase[0]!.kind, blockCount: wonFromBase[0]!.kind === 'temporary' ? 2 : 1 });
      });

      it('rejects a malformed condition, writing nothing', async () => {
        for (const expectedVersion of [-1, 1.5, Number.NaN, '1', { $gt: 0 }, undefined]) {
          await expect(store.put(permanent(key('bad')), T0, { expectedVersion } as unknown as { expectedVersion: number })).rejects.toThrow(TypeError);
        }
        await expect(store.put(permanent(key('bad')), T0, 'x' as unknown as { expectedVersion: null })).rejects.toThrow(TypeError);
        expect(await store.get(key('bad'))).toBeNull();
      });
    });

    describe('lift and remove', () => {
      it('lifts a ban, keeping the record; a second lift changes nothing', async () => {
        await store.put(permanent(key('k')), T0);
        const lifted = await store.lift(key('k'), 'bob', T0 + MINUTE);
        expect(lifted).toMatchObject({ id: 'key:k', liftedAtMs: T0 + MINUTE, liftedBy: 'bob', updatedAtMs: T0 + MINUTE });
        expect(isBanActive(lifted!, T0 + MINUTE)).toBe(false);
        expect(await store.get(key('k'))).toStrictEqual(lifted);

        const again = await store.lift(key('k'), 'carol', T0 + 2 * MINUTE);
        expect(again).toStrictEqual(lifted);
      });

      it('forgets the block count on request, visibly to changedSince, lifted or not', async () => {
        await store.put(temporary(key('fb'), T0 + 60 * MINUTE), T0);
        await store.put(temporary(key('fb'), T0 + 60 * MINUTE), T0 + 1);
        const lifted = await store.lift(key('fb'), 'bob', T0 + MINUTE, { forgetBlocks: true });
        expect(lifted).toMatchObject({ liftedAtMs: T0 + MINUTE, blockCount: 0, updatedAtMs: T0 + MINUTE });
        expect((await store.changedSince(T0 + MINUTE, 10)).map((b) => b.id)).toContain('key:fb');

        await store.put(temporary(key('fb2'), T0 + 60 * MINUTE), T0);
        await store.lift(key('fb2'), 'bob', T0 + MINUTE);
        const forgotten = await store.lift(key('fb2'), 'carol', T0 + 2 * MINUTE, { forgetBlocks: true });
        expect(forgotten).toMatchObject({ liftedAtMs: T0 + MINUTE, liftedBy: 'bob', blockCount: 0, updatedAtMs: T0 + 2 * MINUTE });
      });

      it('returns null when lifting a target without ban', async () => {
        expect(await store.lift(key('none'), 'bob', T0)).toBeNull();
        expect(await store.get(key('none'))).toBeNull();
      });

      it('clears the lift on the next put', async () => {
        await store.put(temporary(key('k'), T0 + MINUTE), T0);
        await store.lift(key('k'), 'bob', T0 + 1);
        const again = await store.put(temporary(key('k'), T0 + 5 * MINUTE), T0 + 2);
        expect(again.blockCount).toBe(2);
        expect('liftedAtMs' in again).toBe(false);
        expect('liftedBy' in again).toBe(false);
        expect(isBanActive(again, T0 + 2)).toBe(true);
      });

      it('removes a record entirely, block count included', async () => {
        await store.put(temporary(key('k'), T0 + MINUTE), T0);
        await store.put(temporary(key('k'), T0 + MINUTE), T0);
        expect(await store.remove(key('k'))).toBe(true);
        expect(await store.get(key('k'))).toBeNull();
        expect(await store.remove(key('k'))).toBe(false);
        expect((await store.put(temporary(key('k'), T0 + MINUTE), T0)).blockCount).toBe(1);
      });

      it('removes a CIDR ban named in any equivalent form', async () => {
        await store.put(permanent(cidr('2001:db8::/48')), T0);
        expect(await store.remove(cidr('2001:DB8:0::/48'))).toBe(true);
        expect(await store.get(cidr('2001:db8::/48'))).toBeNull();
      });
    });

    describe('list', () => {
      it('filters by activeAtMs: a temporary ban has expired at exactly expiresAtMs', async () => {
        await store.put(temporary(key('temp'), T0 + MINUTE), T0);
        await store.put(permanent(key('perm')), T0);
        await store.put(permanent(key('lifted')), T0);
        await store.lift(key('lifted'), 'bob', T0);
        const ids = async (at: number) => (await store.list({ activeAtMs: at }, { limit: 10 })).items.map((b) => b.id).sort();
        expect(await ids(T0 + MINUTE - 1)).toEqual(['key:perm', 'key:temp']);
        expect(await ids(T0 + MINUTE)).toEqual(['key:perm']);
        expect((await store.list({}, { limit: 10 })).items).toHaveLength(3);
      });

      it('filters by kind, source and target', async () => {
        await store.put(temporary(key('10.1.1.1'), T0 + MINUTE), T0);
        await store.put(permanent(key('user:1'), { source: 'auto' }), T0);
        await store.put(permanent(cidr('10.1.1.1')), T0);
        await store.put(permanent(cidr('10.2.0.0/16')), T0);
        const ids = async (filter: Parameters<BanStore['list']>[0]) => (await store.list(filter, { limit: 10 })).items.map((b) => b.id).sort();
        expect(await ids({ kind: 'temporary' })).toEqual(['key:10.1.1.1']);
        expect(await ids({ kind: 'permanent', source: 'admin' })).toEqual(['cidr:10.1.1.1/32', 'cidr:10.2.0.0/16']);
        expect(await ids({ source: 'auto' })).toEqual(['key:10.1.1.1', 'key:user:1']);
        // A target is the exact key, or the exact CIDR (in any form that canonicalises to it).
        expect(await ids({ target: '10.1.1.1' })).toEqual(['cidr:10.1.1.1/32', 'key:10.1.1.1']);
        expect(await ids({ target: '10.2.0.0/16' })).toEqual(['cidr:10.2.0.0/16']);
        expect(await ids({ target: '10.2.0.0' })).toEqual([]);
        expect(await ids({ target: 'user:1' })).toEqual(['key:user:1']);
        expect(await ids({ target: 'user:' })).toEqual([]);
        expect(await ids({ target: 'user:1', kind: 'temporary' })).toEqual([]);
      });

      it("keeps DDoS detection's blocks apart by their source", async () => {
        await store.put(temporary(key('10.9.9.9'), T0 + MINUTE, { source: 'ddos', reason: 'ddos: suspicion score 0.91' }), T0);
        await store.put(temporary(key('10.9.9.8'), T0 + MINUTE), T0);
        expect((await store.list({ source: 'ddos' }, { limit: 10 })).items.map((b) => b.id)).toEqual(['key:10.9.9.9']);
        expect(await store.get(key('10.9.9.9'))).toMatchObject({ source: 'ddos', kind: 'temporary', reason: 'ddos: suspicion score 0.91', blockCount: 1 });
        expect((await store.changedSince(T0, 10)).find((b) => b.id === 'key:10.9.9.9')).toMatchObject({ source: 'ddos' });
      });

      it('pages newest change first with no duplicate or gap, ties included', async () => {
        // 23 bans over 7 distinct times: several share an updatedAtMs.
        const all: string[] = [];
        for (let i = 0; i < 23; i++) {
          const ban = await store.put(temporary(key(`client-${String(i).padStart(2, '0')}`), T0 + MINUTE), T0 + (i % 7));
          all.push(ban.id);
        }
        for (const limit of [1, 5, 7, 23, 500]) {
          const { items, pages } = await listAll(store.list.bind(store), {}, limit);
          expect(items.map((b) => b.id).sort()).toEqual([...all].sort());
          expect(new Set(items.map((b) => b.id)).size).toBe(23);
          expect(pages).toBe(Math.ceil(23 / limit));
          for (let i = 1; i < items.length; i++) {
            const [a, b] = [items[i - 1]!, items[i]!];
            expect(a.updatedAtMs > b.updatedAtMs || (a.updatedAtMs === b.updatedAtMs && a.id > b.id)).toBe(true);
          }
        }
      });

      it('gives no cursor on the last page, even when it is full', async () => {
        for (let i = 0; i < 10; i++) await store.put(permanent(key(`k${i}`)), T0 + i);
        const first = await store.list({}, { limit: 5 });
        expect(first.items).toHaveLength(5);
        expect(first.nextCursor).toEqual(expect.any(String));
        const second = await store.list({}, { limit: 5, cursor: first.nextCursor! });
        expect(second.items).toHaveLength(5);
        expect(second.nextCursor).toBeUndefined();
      });

      it('pages through a filtered list', async () => {
        for (let i = 0; i < 12; i++) await store.put(temporary(key(`t${i}`), T0 + (i % 2 === 0 ? MINUTE : 1)), T0);
        for (let i = 0; i < 5; i++) await store.put(permanent(key(`p${i}`)), T0);
        const { items } = await listAll(store.list.bind(store), { kind: 'temporary', activeAtMs: T0 + 10 }, 2);
        expect(items.map((b) => b.id).sort()).toEqual(['key:t0', 'key:t10', 'key:t2', 'key:t4', 'key:t6', 'key:t8']);
      });

      it('checks the page request', async () => {
        for (const limit of [0, 501, 1.5, -1, Number.NaN]) {
          await expect(store.list({}, { limit })).rejects.toThrow(RangeError);
        }
        await expect(store.list({}, { limit: '5' as unknown as number })).rejects.toThrow(RangeError);
        await expect(store.list({}, { limit: 5, cursor: 'not a cursor' })).rejects.toThrow(TypeError);
        await expect(store.list({}, { limit: 5, cursor: { $gt: '' } as unknown as string })).rejects.toThrow(TypeError);
        expect((await store.list({}, { limit: 500 })).items).toEqual([]);
      });
    });

    describe('changedSince', () => {
      it('returns records changed at or after the time, oldest first, lifts included', async () => {
        await store.put(permanent(key('a')), T0);
        await store.put(permanent(key('b')), T0 + 10);
        await store.put(permanent(key('c')), T0 + 20);
        await store.put(permanent(key('d')), T0 + 20);
        await store.lift(key('a'), 'bob', T0 + 30);
        const ids = async (since: number, limit = 100) => (await store.changedSince(since, limit)).map((b) => b.id);
        expect(await ids(T0 + 10)).toEqual(['key:b', 'key:c', 'key:d', 'key:a']);
        expect(await ids(T0 + 11)).toEqual(['key:c', 'key:d', 'key:a']);
        expect(await ids(T0 + 10, 2)).toEqual(['key:b', 'key:c']);
        expect(await ids(T0 + 31)).toEqual([]);
        expect((await store.changedSince(T0 + 30, 1))[0]).toMatchObject({ id: 'key:a', liftedBy: 'bob' });
      });

      it('no longer returns a removed record', async () => {
        await store.put(permanent(key('a')), T0);
        await store.remove(key('a'));
        expect(await store.changedSince(0, 100)).toEqual([]);
      });

      it('returns each record once, in its current state, even when writers stamp records out of order', async () => {
        await store.put(permanent(key('late')), T0 + 50);
        await store.put(permanent(key('behind')), T0 + 5); // a writer whose clock is behind
        await store.put(temporary(key('late'), T0 + MINUTE), T0 + 60);
        await store.put(permanent(key('gone')), T0 + 70);
        await store.remove(key('gone'));
        await store.lift(key('behind'), 'bob', T0 + 40);
        const changed = await store.changedSince(T0, 100);
        expect(changed.map((b) => [b.id, b.updatedAtMs])).toEqual([
          ['key:behind', T0 + 40],
          ['key:late', T0 + 60],
        ]);
        expect(changed[1]).toMatchObject({ kind: 'temporary', blockCount: 1 });
        expect((await store.changedSince(T0 + 41, 100)).map((b) => b.id)).toEqual(['key:late']);
      });

      it('checks its arguments', async () => {
        await expect(store.changedSince(Number.NaN, 10)).rejects.toThrow(TypeError);
        await expect(store.changedSince(0, 0)).rejects.toThrow(RangeError);
        await expect(store.changedSince({ $gt: 0 } as unknown as number, 10)).rejects.toThrow(TypeError);
      });
    });

    describe('streamActive', () => {
      it('yields every ban in force at the time once, in batches of at most batchSize, and nothing else', async () => {
        if (!store.streamActive) return; // optional: a full reload then pages through list()
        for (let i = 0; i < 23; i++) await store.put(temporary(key(`k${i}`), T0 + (i % 2 === 0 ? MINUTE : 10)), T0);
        await store.put(permanent(key('forever')), T0);
        await store.put(permanent(cidr('192.0.2.0/24')), T0);
        await store.put(permanent(key('lifted')), T0);
        await store.lift(key('lifted'), 'bob', T0 + 1);
        const batches: (readonly Ban[])[] = [];
        for await (const batch of store.streamActive(T0 + 10, 5)) batches.push(batch);
        expect(batches.every((batch) => batch.length >= 1 && batch.length <= 5)).toBe(true);
        const ids = batches.flat().map((b) => b.id);
        const expected = ['cidr:192.0.2.0/24', 'key:forever', ...Array.from({ length: 12 }, (_, i) => `key:k${2 * i}`)];
        expect([...ids].sort()).toEqual(expected.sort());
        expect(batches.flat().every((b) => isBanActive(b, T0 + 10))).toBe(true);
      });

      it('yields nothing from an empty store', async () => {
        if (!store.streamActive) return;
        for await (const batch of store.streamActive(T0, 10)) expect(batch).toEqual([]);
      });
    });

    describe('hostile inputs', () => {
      beforeEach(async () => {
        await store.put(permanent(key('victim-1')), T0);
        await store.put(permanent(key('victim-2')), T0);
      });

      it('treats an operator-looking target string as a literal', async () => {
        for (const target of ['{"$gt": ""}', '{"$ne": null}', '$where', '.*']) {
          expect((await store.list({ target }, { limit: 10 })).items).toEqual([]);
        }
        await store.put(permanent(key('{"$gt": ""}')), T0);
        expect((await store.list({ target: '{"$gt": ""}' }, { limit: 10 })).items.map((b) => b.id)).toEqual(['key:{"$gt": ""}']);
        expect((await store.get(key('{"$gt": ""}')))?.target).toEqual({ type: 'key', key: '{"$gt": ""}' });
      });

      it('rejects an object where a string is expected, matching nothing', async () => {
        const operator = { $gt: '' } as unknown as string;
        await expect(store.list({ target: operator }, { limit: 10 })).rejects.toThrow(TypeError);
        await expect(store.list({ kind: { $ne: 'x' } as unknown as 'permanent' }, { limit: 10 })).rejects.toThrow(TypeError);
        await expect(store.list({ source: ['auto'] as unknown as 'auto' }, { limit: 10 })).rejects.toThrow(TypeError);
        await expect(store.list({ activeAtMs: { $gt: 0 } as unknown as number }, { limit: 10 })).rejects.toThrow(TypeError);
        await expect(store.get({ type: 'key', key: operator })).rejects.toThrow(TypeError);
        await expect(store.get({ type: { $ne: 'x' } } as unknown as BanTarget)).rejects.toThrow(TypeError);
        await expect(store.remove({ type: 'key', key: operator })).rejects.toThrow(TypeError);
        await expect(store.lift({ type: 'key', key: operator }, 'bob', T0)).rejects.toThrow(TypeError);
        await expect(store.put(permanent({ type: 'key', key: operator }), T0)).rejects.toThrow(TypeError);
        await expect(store.put({ ...permanent(key('x')), reason: { $set: 1 } as unknown as string }, T0)).rejects.toThrow(TypeError);
        await expect(store.put({ ...permanent(key('x')), violationCount: '1' as unknown as number }, T0)).rejects.toThrow(TypeError);
        // Nothing was changed by any of it.
        expect((await store.list({}, { limit: 10 })).items.map((b) => b.id).sort()).toEqual(['key:victim-1', 'key:victim-2']);
        expect((await store.list({}, { limit: 10 })).items.every((b) => b.liftedAtMs === undefined)).toBe(true);
      });
    });
  });
}
