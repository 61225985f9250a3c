import type { AdaptiveState } from '../../../lib/adaptive/adaptive-math.js';
import type { AdaptiveStore } from '../../../lib/storage/adaptive-store.interface.js';

export interface AdaptiveStoreFactory {
  /** A store with nothing in it. */
  create(): Promise<AdaptiveStore>;
  /** A second store over the same data as the last one made (another instance of the app); the same store in memory. */
  createPeer(): Promise<AdaptiveStore>;
}

const T0 = Date.UTC(2030, 0, 1);

/** A state with a fraction in every field that can hold one, so that a store that rounds is caught. */
export function stateAt(startMs: number, trust = 0.328125): AdaptiveState {
  return { startMs, count: 7, flags: 3, samples: 12, mean: 5.921875, variance: 14.5, z: -3.299831645537222, trust };
}

/** The contract every AdaptiveStore keeps: exact states, replaced whole, by key, until their expiry. */
export function adaptiveStoreContract(name: string, factory: AdaptiveStoreFactory): void {
  describe(`${name} (AdaptiveStore contract)`, () => {
    let store: AdaptiveStore;
    beforeEach(async () => {
      store = await factory.create();
    });

    it('reads back exactly what was written, and nothing for a key never written', async () => {
      await store.put('api:GET /a:203.0.113.7', stateAt(T0), T0 + 60_000);
      expect(await store.get('api:GET /a:203.0.113.7', T0)).toEqual(stateAt(T0));
      expect(await store.get('api:GET /a:203.0.113.8', T0)).toBeUndefined();
    });

    it('replaces the state whole at each write, and another instance reads the last one', async () => {
      await store.put('k', stateAt(T0), T0 + 60_000);
      await store.put('k', stateAt(T0 + 1_000, 0.9), T0 + 61_000);
      const peer = await factory.createPeer();
      expect(await peer.get('k', T0 + 1_000)).toEqual(stateAt(T0 + 1_000, 0.9));
    });

    it('forgets a state at its expiry, by the caller clock', async () => {
      await store.put('k', stateAt(T0), T0 + 5_000);
      expect(await store.get('k', T0 + 4_999)).toEqual(stateAt(T0));
      expect(await store.get('k', T0 + 5_000)).toBeUndefined();
    });

    it('keeps a copy: changing the written object changes nothing stored', async () => {
      const state = stateAt(T0);
      await store.put('k', state, T0 + 5_000);
      state.trust = 0;
      const read = await store.get('k', T0);
      expect(read?.trust).toBe(0.328125);
      read!.count = 99;
      expect((await store.get('k', T0))?.count).toBe(7);
    });

    it('takes keys that read like operators or hash tags as plain text', async () => {
      for (const key of ['$gt', '{"$ne":null}', 'a}{b', 'rule:route:{x}']) await store.put(key, stateAt(T0, 0.25), T0 + 5_000);
      expect((await store.get('$gt', T0))?.trust).toBe(0.25);
      expect(await store.get('$ne', T0)).toBeUndefined();
      expect((await store.get('a}{b', T0))?.trust).toBe(0.25);
    });
  });
}
