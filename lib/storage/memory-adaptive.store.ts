import type { AdaptiveState } from '../adaptive/adaptive-math.js';
import type { AdaptiveStore } from './adaptive-store.interface.js';
import { checkTime } from './store-input.js';

/** Options of `MemoryAdaptiveStore`. */
export interface MemoryAdaptiveStoreOptions {
  /** Most states kept; when full, the expired ones go, then the oldest written. @default 100_000 */
  maxKeys?: number;
}

/**
 * The state of adaptive limits in this process's memory, bounded: synchronous, copied in and out
 * (a state the caller changes later is not the stored one).
 */
export class MemoryAdaptiveStore implements AdaptiveStore {
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

  /** Drops the states expired at `nowMs`, or else the oldest written. */
  private makeRoom(nowMs: number): void {
    for (const [key, { expiresAtMs }] of this.states) if (expiresAtMs <= nowMs) this.states.delete(key);
    if (this.states.size >= this.maxKeys) this.states.delete(this.states.keys().next().value as string);
  }
}
