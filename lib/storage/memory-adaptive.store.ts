import type { AdaptiveState } from '../adaptive/adaptive-math.js';
import type { AdaptiveStore } from './adaptive-store.interface.js';
import { checkTime } from './store-input.js';

/** Options of `MemoryAdaptiveStore`. */
export interface MemoryAdaptiveStoreOptions {
  /** Most states kept; when full, the oldest written goes (an expired one among the oldest first). @default 100_000 */
  maxKeys?: number;
}

/** States a full store looks at, oldest written first, for an expired one to drop: a put costs O(1) however many it holds. */
const SWEEP = 8;

/**
 * The state of adaptive limits in this process's memory, bounded: synchronous, copied in and out
 * (a state the caller changes later is not the stored one).
 */
export class MemoryAdaptiveStore implements AdaptiveStore {
  /** In the order written: a put moves its key to the end. */
  private readonly states = new Map<string, { readonly state: AdaptiveState; readonly expiresAtMs: number }>();
  private readonly maxKeys: number;

  constructor(options: MemoryAdaptiveStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new TypeError(`MemoryAdaptiveStore: maxKeys must be a positive integer, got ${String(maxKeys)}.`);
    this.maxKeys = maxKeys;
  }

  get size(): number {
    return this.states.size;
  }

  get(key: string, nowMs: number): AdaptiveState | undefined {
    checkTime(nowMs, 'nowMs');
    const stored = this.states.get(key);
    if (stored === undefined) return undefined;
    if (stored.expiresAtMs <= nowMs) {
      this.states.delete(key);
      return undefined;
    }
    return { ...stored.state };
  }

  put(key: string, state: AdaptiveState, expiresAtMs: number): void {
    checkTime(expiresAtMs, 'expiresAtMs');
    this.states.delete(key);
    if (this.states.size >= this.maxKeys) this.makeRoom(state.startMs);
    this.states.set(key, { state: { ...state }, expiresAtMs });
  }

  /**
   * Drops the states expired at `nowMs` among the `SWEEP` oldest written, or else the oldest written:
   * never a scan of the whole map, which churn (a new client per request) would run on every put.
   */
  private makeRoom(nowMs: number): void {
    let looked = 0;
    let dropped = false;
    for (const [key, { expiresAtMs }] of this.states) {
      if (looked++ === SWEEP) break;
      if (expiresAtMs <= nowMs) dropped = this.states.delete(key);
    }
    if (!dropped) this.states.delete(this.states.keys().next().value as string);
  }
}
