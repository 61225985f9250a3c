/**
 * The ViolationStore contract: every implementation passes this suite. `create` returns a store
 * holding nothing (called before each test).
 */
import type { Violation, ViolationFilter, ViolationStore } from '../../../lib/storage/violation-store.interface.js';
import { listAll } from './list-all.js';

const T0 = Date.UTC(2030, 0, 1);

function violation(key: string, atMs: number, extra: Partial<Violation> = {}): Violation {
  return { key, rule: 'default', route: 'AppController.get', method: 'GET', hits: 11, limit: 10, atMs, ...extra };
}

export function violationStoreContract(name: string, create: () => Promise<ViolationStore> | ViolationStore): void {
  describe(`ViolationStore contract: ${name}`, () => {
    let store: ViolationStore;

    beforeEach(async () => {
      store = await create();
    });

    it('records violations and lists them newest first, exactly as given', async () => {
      const a = violation('1.1.1.1', T0, { rule: 'burst', route: 'A.a', method: 'POST', hits: 12, limit: 5 });
      const b = violation('2.2.2.2', T0 + 5);
      const c = violation('1.1.1.1', T0 + 2);
      for (const v of [a, b, c]) await store.record(v);
      const page = await store.list({}, { limit: 10 });
      expect(page.items).toStrictEqual([b, c, a]);
      expect(page.nextCursor).toBeUndefined();
    });

    it('lists violations of one millisecond newest recorded first', async () => {
      for (let i = 0; i < 3; i++) await store.record(violation(`k${i}`, T0));
      expect((await store.list({}, { limit: 10 })).items.map((v) => v.key)).toEqual(['k2', 'k1', 'k0']);
    });

    it('counts the violations of a key at or after a time', async () => {
      for (const at of [T0, T0 + 10, T0 + 20, T0 + 30]) await store.record(violation('k', at));
      await store.record(violation('other', T0 + 20));
      expect(await store.count('k', T0)).toBe(4);
      expect(await store.count('k', T0 + 20)).toBe(2);
      expect(await store.count('k', T0 + 21)).toBe(1);
      expect(await store.count('k', T0 + 31)).toBe(0);
      expect(await store.count('unknown', 0)).toBe(0);
    });

    it('filters by key, rule and time (fromMs inclusive, toMs exclusive)', async () => {
      for (let i = 0; i < 10; i++) {
        await store.record(violation(i % 2 === 0 ? 'even' : 'odd', T0 + i * 10, { rule: i < 5 ? 'early' : 'late' }));
      }
      const ats = async (filter: ViolationFilter) => (await store.list(filter, { limit: 100 })).items.map((v) => v.atMs - T0);
      expect(await ats({ key: 'even' })).toEqual([80, 60, 40, 20, 0]);
      expect(await ats({ rule: 'late' })).toEqual([90, 80, 70, 60, 50]);
      expect(await ats({ fromMs: T0 + 30, toMs: T0 + 60 })).toEqual([50, 40, 30]);
      expect(await ats({ key: 'odd', rule: 'early', fromMs: T0 + 10 })).toEqual([30, 10]);
      expect(await ats({ toMs: T0 })).toEqual([]);
      expect(await ats({ key: 'none' })).toEqual([]);
    });

    it('pages newest first with no duplicate or gap, ties and filters included', async () => {
      const recorded: Violation[] = [];
      for (let i = 0; i < 31; i++) {
        const v = violation(i % 3 === 0 ? 'x' : 'y', T0 + (i % 6), { hits: i });
        recorded.push(v);
        await store.record(v);
      }
      for (const limit of [1, 4, 6, 31, 500]) {
        const { items, pages } = await listAll(store.list.bind(store), {}, limit);
        expect(items.map((v) => v.hits).sort((a, b) => a - b)).toEqual(recorded.map((v) => v.hits));
        expect(pages).toBe(Math.ceil(31 / limit));
        for (let i = 1; i < items.length; i++) expect(items[i - 1]!.atMs).toBeGreaterThanOrEqual(items[i]!.atMs);
      }
      const { items } = await listAll(store.list.bind(store), { key: 'x', fromMs: T0 + 1 }, 2);
      expect(items.map((v) => v.hits).sort((a, b) => a - b)).toEqual(recorded.filter((v) => v.key === 'x' && v.atMs >= T0 + 1).map((v) => v.hits));
    });

    it('deletes the history of a key', async () => {
      for (let i = 0; i < 4; i++) await store.record(violation('gone', T0 + i));
      await store.record(violation('kept', T0));
      expect(await store.deleteByKey('gone')).toBe(4);
      expect(await store.count('gone', 0)).toBe(0);
      expect(await store.deleteByKey('gone')).toBe(0);
      expect((await store.list({}, { limit: 10 })).items.map((v) => v.key)).toEqual(['kept']);
    });

    it('purges what is older than a time', async () => {
      for (let i = 0; i < 5; i++) await store.record(violation(`k${i % 2}`, T0 + i * 100));
      expect(await store.purge(T0 + 200)).toBe(2);
      expect((await store.list({}, { limit: 10 })).items.map((v) => v.atMs - T0)).toEqual([400, 300, 200]);
      expect(await store.count('k0', 0)).toBe(2);
      expect(await store.purge(T0 + 200)).toBe(0);
    });

    it('checks the page request', async () => {
      for (const limit of [0, 501, 2.5]) await expect(store.list({}, { limit })).rejects.toThrow(RangeError);
      await expect(store.list({}, { limit: 5, cursor: 'garbage' })).rejects.toThrow(TypeError);
      await expect(store.list({}, { limit: 5, cursor: Buffer.from('[1,{}]').toString('base64url') })).rejects.toThrow(TypeError);
    });

    it('refuses a violation with a field of the wrong type', async () => {
      await expect(store.record({ ...violation('k', T0), atMs: 'now' as unknown as number })).rejects.toThrow(TypeError);
      await expect(store.record({ ...violation('k', T0), key: { $gt: '' } as unknown as string })).rejects.toThrow(TypeError);
      await expect(store.record({ ...violation('k', T0), hits: Number.NaN })).rejects.toThrow(TypeError);
      expect((await store.list({}, { limit: 10 })).items).toEqual([]);
    });

    describe('hostile inputs', () => {
      beforeEach(async () => {
        await store.record(violation('victim-1', T0));
        await store.record(violation('victim-2', T0 + 1));
      });

      it('treats an operator-looking key or rule as a literal', async () => {
        expect((await store.list({ key: '{"$gt": ""}' }, { limit: 10 })).items).toEqual([]);
        expect((await store.list({ rule: '{"$ne": null}' }, { limit: 10 })).items).toEqual([]);
        expect(await store.count('{"$gt": ""}', 0)).toBe(0);
        expect(await store.deleteByKey('{"$gt": ""}')).toBe(0);
        await store.record(violation('{"$gt": ""}', T0 + 2));
        expect(await store.count('{"$gt": ""}', 0)).toBe(1);
        expect(await store.deleteByKey('{"$gt": ""}')).toBe(1);
      });

      it('rejects an object where a string or number is expected, deleting nothing', async () => {
        const operator = { $gt: '' } as unknown as string;
        await expect(store.list({ key: operator }, { limit: 10 })).rejects.toThrow(TypeError);
        await expect(store.list({ rule: operator }, { limit: 10 })).rejects.toThrow(TypeError);
        await expect(store.list({ fromMs: { $gt: 0 } as unknown as number }, { limit: 10 })).rejects.toThrow(TypeError);
        await expect(store.count(operator, 0)).rejects.toThrow(TypeError);
        await expect(store.count('victim-1', { $gte: 0 } as unknown as number)).rejects.toThrow(TypeError);
        await expect(store.deleteByKey(operator)).rejects.toThrow(TypeError);
        await expect(store.deleteByKey({ $ne: null } as unknown as string)).rejects.toThrow(TypeError);
        await expect(store.purge({ $gt: 0 } as unknown as number)).rejects.toThrow(TypeError);
        expect((await store.list({}, { limit: 10 })).items.map((v) => v.key)).toEqual(['victim-2', 'victim-1']);
      });
    });
  });
}
