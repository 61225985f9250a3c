import type { AdaptiveState } from '../adaptive/adaptive-math.js';

/**
 * Where the state of adaptive limits lives (see "Adaptive limits" in the README): per store key (a
 * rule and a client, the key its counters have), a fixed handful of numbers, written by each
 * instance at most once per client and sampling interval, read when an instance meets a client it
 * does not hold in memory. The last write wins: each instance adapts on the requests it sees.
 */
export interface AdaptiveStore {
  /** The state of `key`, unless none was written or it expired at `nowMs`. */
  get(key: string, nowMs: number): AdaptiveState | undefined | Promise<AdaptiveState | undefined>;
  /** Writes (replaces) the state of `key`, kept until `expiresAtMs` (epoch ms, the app's clock). */
  put(key: string, state: AdaptiveState, expiresAtMs: number): void | Promise<void>;
}
