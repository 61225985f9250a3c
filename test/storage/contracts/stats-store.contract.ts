import type { InstanceStatsSummary } from '../../../lib/observability/stats-summary.js';
import type { StatsStore } from '../../../lib/storage/stats-store.interface.js';

export interface StatsStoreFactory {
  /** A store with nothing in it. */
  create(): Promise<StatsStore>;
  /** A second store over the same data as the last one made (another instance of the app); the same store in memory. */
  createPeer(): Promise<StatsStore>;
}

const T0 = Date.UTC(2030, 0, 1);

/** A summary of `instance` at `atMs`, with one bucket holding `requests` allowed requests and a client key that reads like an operator. */
export function summaryOf(instance: string, atMs: number, requests = 1): InstanceStatsSummary {
  return {
    instance,
    host: 'host-a',
    pid: 42,
    startedAtMs: T0 - 60_000,
    atMs,
    bucketMs: 10_000,
    buckets: [
      {
        startMs: atMs - (atMs % 10_000),
        outcomes: [requests, 2, 0, 0, 0, 1, 0, 0],
        violations: 1,
        shadowViolations: 0,
        blocks: 0,
        bans: 0,
        rules: [['per-minute', requests + 2, 2, 0]],
        keys: [
          ['$gt', 1],
          ['203.0.113.7', 1],
        ],
      },
    ],
  };
}

const byInstance = (summaries: InstanceStatsSummary[]) => [...summaries].sort((a, b) => a.instance.localeCompare(b.instance));

/** What every statistics store must do: one summary per instance, replaced at each write, gone after its expiry. */
export function statsStoreContract(name: string, factory: StatsStoreFactory): void {
  describe(`${name} (stats store contract)`, () => {
    let store: StatsStore;
    let peer: StatsStore;
    beforeEach(async () => {
      store = await factory.create();
      peer = await factory.createPeer();
    });

    it('lists nothing before any write', async () => {
      expect(await store.list(T0)).toEqual([]);
    });

    it('gives back each summary exactly as written, to another instance too', async () => {
      const a = summaryOf('host-a:1:aa', T0, 3);
      const b = summaryOf('host-b:2:bb', T0 + 1, 5);
      await store.put(a, T0 + 900_000);
      await peer.put(b, T0 + 900_001);
      expect(byInstance(await peer.list(T0 + 2))).toEqual([a, b]);
      expect(byInstance(await store.list(T0 + 2))).toEqual([a, b]);
    });

    it("replaces an instance's summary at each write", async () => {
      await store.put(summaryOf('host-a:1:aa', T0, 1), T0 + 60_000);
      const later = summaryOf('host-a:1:aa', T0 + 5_000, 9);
      await peer.put(later, T0 + 65_000);
      expect(await store.list(T0 + 5_000)).toEqual([later]);
    });

    it("leaves out a summary from its expiry on, by the caller's clock, whatever the store's own", async () => {
      await store.put(summaryOf('dead', T0, 1), T0 + 10_000);
      await store.put(summaryOf('alive', T0, 1), T0 + 20_000);
      expect((await peer.list(T0 + 9_999)).map((s) => s.instance).sort()).toEqual(['alive', 'dead']);
      expect((await peer.list(T0 + 10_000)).map((s) => s.instance)).toEqual(['alive']);
      expect(await peer.list(T0 + 20_000)).toEqual([]);
    });

    it('an instance that writes again after its summary expired is listed again', async () => {
      await store.put(summaryOf('back', T0, 1), T0 + 1_000);
      expect(await store.list(T0 + 1_000)).toEqual([]);
      const again = summaryOf('back', T0 + 2_000, 4);
      await store.put(again, T0 + 3_000);
      expect(await peer.list(T0 + 2_000)).toEqual([again]);
    });

    it('keeps one summary per instance for many instances', async () => {
      const instances = Array.from({ length: 60 }, (_, i) => `host-${String(i).padStart(2, '0')}:${1000 + i}:0a0b`);
      await Promise.all(instances.map((instance, i) => (i % 2 ? store : peer).put(summaryOf(instance, T0, i + 1), T0 + 60_000)));
      // Each writes again: still one each, the latest.
      await Promise.all(instances.map((instance, i) => (i % 2 ? peer : store).put(summaryOf(instance, T0 + 1_000, i + 100), T0 + 61_000)));
      const listed = byInstance(await store.list(T0 + 1_000));
      expect(listed.map((s) => s.instance)).toEqual(instances);
      expect(listed.map((s) => s.buckets[0]!.outcomes[0])).toEqual(instances.map((_, i) => i + 100));
    });

    it('refuses a summary without an instance, and a time that is not a number, before touching the data', async () => {
      await expect(store.put({ ...summaryOf('x', T0), instance: '' }, T0 + 1)).rejects.toThrow(/summary\.instance must be a non-empty string/);
      await expect(store.put({ ...summaryOf('x', T0), instance: { $gt: '' } as never }, T0 + 1)).rejects.toThrow(TypeError);
      await expect(store.put(summaryOf('x', T0), Number.NaN)).rejects.toThrow(/expiresAtMs/);
      await expect(store.list('now' as never)).rejects.toThrow(/nowMs/);
      expect(await peer.list(T0)).toEqual([]);
    });
  });
}
