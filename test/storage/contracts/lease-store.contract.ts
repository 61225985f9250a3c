import type { Lease, LeaseStore } from '../../../lib/storage/lease-store.interface.js';

export interface LeaseStoreFactory {
  create(): Promise<LeaseStore>;
  /** A second store over the same data (another instance of the app); the same store in memory. */
  createPeer(): Promise<LeaseStore>;
}

const T0 = Date.UTC(2030, 0, 1);
let unique = 0;
const lease = (holder: string, expiresAtMs = T0 + 30_000): Lease => ({ id: `${holder}:${++unique}`, holder, expiresAtMs });

/** What every lease store must do: exact pools under concurrency, lapsed leases dropped, renewals by holder. */
export function leaseStoreContract(name: string, factory: LeaseStoreFactory): void {
  describe(`${name} (lease store contract)`, () => {
    let store: LeaseStore;
    let peer: LeaseStore;
    let key: string;
    beforeAll(async () => {
      store = await factory.create();
      peer = await factory.createPeer();
    });
    beforeEach(() => {
      key = `pool:${++unique}`;
    });

    it('takes leases up to the limit, then refuses, and counts the live ones', async () => {
      expect(await store.acquire(key, lease('a'), 2, T0)).toEqual({ acquired: true, held: 1 });
      expect(await store.acquire(key, lease('a'), 2, T0)).toEqual({ acquired: true, held: 2 });
      expect(await store.acquire(key, lease('b'), 2, T0)).toEqual({ acquired: false, held: 2 });
      expect(await store.count(key, T0)).toBe(2);
      expect(await store.count(`${key}:other`, T0)).toBe(0);
    });

    it('admits exactly the limit among concurrent acquisitions from two instances', async () => {
      const attempts = Array.from({ length: 30 }, (_, i) => (i % 2 ? store : peer).acquire(key, lease(i % 2 ? 'a' : 'b'), 7, T0));
      const results = await Promise.all(attempts);
      expect(results.filter((r) => r.acquired)).toHaveLength(7);
      expect(await store.count(key, T0)).toBe(7);
    });

    it('frees a slot on release, and a release of a lease that is gone changes nothing', async () => {
      const first = lease('a');
      await store.acquire(key, first, 1, T0);
      expect((await peer.acquire(key, lease('b'), 1, T0)).acquired).toBe(false);
      await store.release(key, first.id);
      await store.release(key, first.id);
      await store.release(`${key}:missing`, 'nobody');
      expect((await peer.acquire(key, lease('b'), 1, T0)).acquired).toBe(true);
    });

    it('drops lapsed leases: a holder that stopped renewing frees its slots at their expiry', async () => {
      await store.acquire(key, lease('dead', T0 + 1_000), 2, T0);
      await store.acquire(key, lease('dead', T0 + 1_000), 2, T0);
      expect((await peer.acquire(key, lease('alive', T0 + 1_999), 2, T0 + 999)).acquired).toBe(false);
      expect(await peer.count(key, T0 + 1_000)).toBe(0);
      expect(await peer.acquire(key, lease('alive', T0 + 2_000), 2, T0 + 1_000)).toEqual({ acquired: true, held: 1 });
      expect(await peer.acquire(key, lease('alive', T0 + 2_000), 2, T0 + 1_000)).toEqual({ acquired: true, held: 2 });
      expect((await peer.acquire(key, lease('alive', T0 + 2_000), 2, T0 + 1_000)).acquired).toBe(false);
    });

    it('renews the live leases of one holder only, and never revives a lapsed one', async () => {
      const otherKey = `${key}:second`;
      await store.acquire(key, lease('h1', T0 + 1_000), 3, T0);
      await store.acquire(otherKey, lease('h1', T0 + 1_000), 3, T0);
      await store.acquire(key, lease('h2', T0 + 1_000), 3, T0);
      await store.acquire(key, lease('h1', T0 + 500), 3, T0);
      await store.renew('h1', T0 + 600, T0 + 5_000);
      // h1's two live leases now last until T0 + 5 000; h2's and h1's lapsed one do not.
      expect(await peer.count(key, T0 + 1_000)).toBe(1);
      expect(await peer.count(otherKey, T0 + 4_999)).toBe(1);
      expect(await peer.count(otherKey, T0 + 5_000)).toBe(0);
    });

    it("gives back every lease of a holder at once (an instance's shutdown)", async () => {
      const otherKey = `${key}:second`;
      await store.acquire(key, lease('leaving'), 2, T0);
      await store.acquire(key, lease('staying'), 2, T0);
      await store.acquire(otherKey, lease('leaving'), 1, T0);
      await store.releaseHolder('leaving');
      expect(await peer.count(key, T0)).toBe(1);
      expect(await peer.count(otherKey, T0)).toBe(0);
      expect((await peer.acquire(otherKey, lease('new'), 1, T0)).acquired).toBe(true);
    });

    it('refuses more once the limit is lowered below the leases held, until enough are released', async () => {
      const held = [lease('a'), lease('a'), lease('a')];
      for (const l of held) await store.acquire(key, l, 3, T0);
      expect((await store.acquire(key, lease('a'), 2, T0)).acquired).toBe(false);
      await store.release(key, held[0].id);
      await store.release(key, held[1].id);
      expect((await store.acquire(key, lease('a'), 2, T0)).acquired).toBe(true);
    });
  });
}
