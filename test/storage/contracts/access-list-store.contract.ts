/**
 * The AccessListStore contract: every implementation passes this suite. `create` returns a store
 * holding nothing (called before each test).
 *
 * CIDRs are canonicalised: `10.0.0.1` is `10.0.0.1/32`, `2001:db8::1` is `2001:db8::1/128`. A range
 * with host bits set (`10.0.0.5/8`) is refused with a RangeError rather than widened to `10.0.0.0/8`.
 */
import type { AccessListEntry, AccessListKind, AccessListStore } from '../../../lib/storage/access-list-store.interface.js';

const T0 = Date.UTC(2030, 0, 1);

type NewEntry = Parameters<AccessListStore['put']>[0];

function entry(cidr: string, kind: AccessListKind = 'deny', extra: Partial<NewEntry> = {}): NewEntry {
  return { cidr, kind, createdBy: 'alice', createdAtMs: T0, ...extra };
}

export function accessListStoreContract(name: string, create: () => Promise<AccessListStore> | AccessListStore): void {
  describe(`AccessListStore contract: ${name}`, () => {
    let store: AccessListStore;

    beforeEach(async () => {
      store = await create();
    });

    it('puts an entry and lists it', async () => {
      const put = await store.put(entry('203.0.113.0/24', 'allow', { note: 'office', expiresAtMs: T0 + 1000 }), T0 + 5);
      const expected: AccessListEntry = {
        cidr: '203.0.113.0/24',
        kind: 'allow',
        note: 'office',
        createdBy: 'alice',
        createdAtMs: T0,
        expiresAtMs: T0 + 1000,
        updatedAtMs: T0 + 5,
      };
      expect(put).toStrictEqual(expected);
      expect(await store.list()).toStrictEqual([expected]);
    });

    it('canonicalises addresses and ranges', async () => {
      const cases: Array<[string, string]> = [
        ['10.0.0.1', '10.0.0.1/32'],
        ['2001:db8::1', '2001:db8::1/128'],
        ['2001:DB8:0:0::/48', '2001:db8::/48'],
        [' 192.0.2.0/24 ', '192.0.2.0/24'],
        ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
        ['::ffff:192.0.2.7', '192.0.2.7/32'],
        ['0.0.0.0/0', '0.0.0.0/0'],
        ['::/0', '::/0'],
      ];
      for (const [given, canonical] of cases) {
        expect((await store.put(entry(given), T0)).cidr).toBe(canonical);
      }
      expect((await store.list('deny')).map((e) => e.cidr).sort()).toEqual(cases.map(([, c]) => c).sort());
    });

    it('refuses a range with host bits set, naming the network to write', async () => {
      await expect(store.put(entry('10.0.0.5/8'), T0)).rejects.toThrow(RangeError);
      await expect(store.put(entry('10.0.0.5/8'), T0)).rejects.toThrow(/10\.0\.0\.0\/8.*10\.0\.0\.5\/32/);
      await expect(store.put(entry('2001:db8::1/32'), T0)).rejects.toThrow(/2001:db8::\/32/);
      expect(await store.list()).toEqual([]);
    });

    it('refuses what is not an address or range', async () => {
      for (const bad of ['', 'example.com', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/8/8', '010.0.0.1', '10.0.0.0/-1', '[::1]:80']) {
        await expect(store.put(entry(bad), T0)).rejects.toThrow(/cidr/);
      }
      await expect(store.put(entry({ $gt: '' } as unknown as string), T0)).rejects.toThrow(TypeError);
      expect(await store.list()).toEqual([]);
    });

    it('replaces the entry of the same kind and range; allow and deny entries are apart', async () => {
      await store.put(entry('10.0.0.0/8', 'deny', { note: 'first', expiresAtMs: T0 + 100 }), T0);
      await store.put(entry('10.0.0.0/8', 'allow'), T0);
      const replaced = await store.put(entry('10.0.0.0/8', 'deny', { createdBy: 'bob' }), T0 + 1);
      expect(replaced).toStrictEqual({ cidr: '10.0.0.0/8', kind: 'deny', createdBy: 'bob', createdAtMs: T0, updatedAtMs: T0 + 1 });
      expect(await store.list('deny')).toStrictEqual([replaced]);
      expect((await store.list('allow')).map((e) => e.cidr)).toEqual(['10.0.0.0/8']);
      expect(await store.list()).toHaveLength(2);
    });

    it('removes an entry named in any equivalent form; removing again answers false', async () => {
      await store.put(entry('10.0.0.1'), T0);
      expect(await store.remove('allow', '10.0.0.1', T0 + 1)).toBe(false);
      expect(await store.remove('deny', '10.0.0.1', T0 + 1)).toBe(true);
      expect(await store.list()).toEqual([]);
      expect(await store.remove('deny', '10.0.0.1/32', T0 + 2)).toBe(false);
      expect(await store.remove('deny', '192.0.2.0/24', T0 + 2)).toBe(false);
    });

    it('makes a removal visible through changedSince', async () => {
      await store.put(entry('10.0.0.0/8'), T0);
      await store.put(entry('192.0.2.0/24'), T0 + 10);
      await store.remove('deny', '10.0.0.0/8', T0 + 20);
      const changes = await store.changedSince(T0 + 10, 100);
      expect(changes.map((e) => [e.cidr, e.updatedAtMs, e.removedAtMs])).toEqual([
        ['192.0.2.0/24', T0 + 10, undefined],
        ['10.0.0.0/8', T0 + 20, T0 + 20],
      ]);
      expect(await store.changedSince(T0 + 21, 100)).toEqual([]);
    });

    it('revives a removed entry on the next put', async () => {
      await store.put(entry('10.0.0.0/8'), T0);
      await store.remove('deny', '10.0.0.0/8', T0 + 1);
      const again = await store.put(entry('10.0.0.0/8'), T0 + 2);
      expect('removedAtMs' in again).toBe(false);
      expect((await store.list()).map((e) => e.cidr)).toEqual(['10.0.0.0/8']);
      expect((await store.changedSince(T0 + 2, 10))[0]).toStrictEqual(again);
    });

    it('lists by kind, expired entries included', async () => {
      await store.put(entry('10.0.0.0/8', 'deny', { expiresAtMs: T0 + 1 }), T0);
      await store.put(entry('192.0.2.0/24', 'allow'), T0);
      await store.put(entry('2001:db8::/32', 'allow'), T0);
      expect((await store.list('allow')).map((e) => e.cidr).sort()).toEqual(['192.0.2.0/24', '2001:db8::/32']);
      expect((await store.list('deny')).map((e) => e.cidr)).toEqual(['10.0.0.0/8']);
      expect(await store.list()).toHaveLength(3);
    });

    it('returns changes oldest first, limited', async () => {
      for (let i = 0; i < 6; i++) await store.put(entry(`10.0.${i}.0/24`), T0 + (5 - i));
      const changes = await store.changedSince(T0 + 1, 3);
      expect(changes.map((e) => e.cidr)).toEqual(['10.0.4.0/24', '10.0.3.0/24', '10.0.2.0/24']);
      await expect(store.changedSince(T0, 0)).rejects.toThrow(RangeError);
      await expect(store.changedSince({ $gte: 0 } as unknown as number, 10)).rejects.toThrow(TypeError);
    });

    it('rejects an object where a kind or a string is expected', async () => {
      await store.put(entry('10.0.0.0/8'), T0);
      await expect(store.list({ $ne: 'allow' } as unknown as AccessListKind)).rejects.toThrow(TypeError);
      await expect(store.list('{"$ne": "allow"}' as AccessListKind)).rejects.toThrow(TypeError);
      await expect(store.remove({ $ne: 'allow' } as unknown as AccessListKind, '10.0.0.0/8', T0)).rejects.toThrow(TypeError);
      await expect(store.remove('deny', { $gt: '' } as unknown as string, T0)).rejects.toThrow(TypeError);
      await expect(store.put({ ...entry('10.0.0.0/8'), note: { $set: 'x' } as unknown as string }, T0)).rejects.toThrow(TypeError);
      await expect(store.put({ ...entry('10.0.0.0/8'), createdBy: '' }, T0)).rejects.toThrow(TypeError);
      expect(await store.list()).toStrictEqual([{ cidr: '10.0.0.0/8', kind: 'deny', createdBy: 'alice', createdAtMs: T0, updatedAtMs: T0 }]);
    });
  });
}
