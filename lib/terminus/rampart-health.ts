import type { RampartConfig } from '../engine/rampart-config.js';
import * as messages from '../errors/messages.js';
import { probeStore, StoreTimeoutError, withTimeout, type StoreHealth } from '../protection/store-health.js';

/**
 * How this instance's rate limiting stands:
 * - `up`: the rate-limit store answered a probe within `storeTimeoutMs`, the storage is ready and
 *   requests are counted in it (limits hold across the fleet);
 * - `degraded`: requests are not counted in the store (it is down, failed the probe, or the storage
 *   is not ready yet), but the in-process fallback counts them (`storeFallback`): limits still
 *   hold, per instance;
 * - `down`: requests are not counted in the store and nothing counts them instead: they are
 *   answered by `onStoreError` (admitted uncounted, or refused with 503).
 */
export type RampartHealthState = 'up' | 'degraded' | 'down';

/** What a health check of Rampart found (the data of the terminus indicator). */
export interface RampartHealth {
  readonly state: RampartHealthState;
  /** How long the probe took, in milliseconds (up to `storeTimeoutMs` when it timed out). */
  readonly latencyMs: number;
  /** Whether the storage is prepared and its bans and lists loaded (see `Rampart.storageReady`). */
  readonly storage: 'ready' | 'not-ready';
  /** Present while the fallback counts requests in place of the store. */
  readonly degraded?: true;
  readonly fallback?: 'counting';
  /**
   * Why the probe failed: `timed out after <n> ms`, or `store error` (the driver's own message may
   * name hosts, users or databases, and a health body is often public: store outages are logged).
   */
  readonly error?: string;
}

/** What a health check reads of a `Rampart`. */
export interface RampartHealthSource {
  readonly config: Pick<RampartConfig, 'store' | 'clock' | 'storeTimeoutMs' | 'storeFallback'>;
  readonly storageReady: boolean;
  readonly health: Pick<StoreHealth, 'isDown'>;
}

/** What a failed probe reports when the store answered with an error. */
const STORE_ERROR = 'store error';

/**
 * Probes the rate-limit store once (a count on its own key, as the outage probe makes), bounded by
 * `storeTimeoutMs`, and tells how this instance's rate limiting stands. The probe changes no state:
 * neither its failure nor its success marks the store down or up (requests and the outage probe
 * alone do), so a health check never switches limits on or off.
 */
export async function checkRampartHealth(rampart: RampartHealthSource): Promise<RampartHealth> {
  const { store, clock, storeTimeoutMs, storeFallback } = rampart.config;
  const startedAt = performance.now();
  let error: string | undefined;
  try {
    await withTimeout(() => probeStore(store, clock), storeTimeoutMs);
  } catch (cause) {
    error = cause instanceof StoreTimeoutError ? cause.message : STORE_ERROR;
  }
  const latencyMs = Math.round((performance.now() - startedAt) * 100) / 100;
  const ready = rampart.storageReady;
  const storage = ready ? 'ready' : 'not-ready';
  const counted = error === undefined && ready && !rampart.health.isDown;
  const failure = error === undefined ? {} : { error };
  if (counted) return { state: 'up', latencyMs, storage };
  if (storeFallback) return { state: 'degraded', latencyMs, storage, degraded: true, fallback: 'counting', ...failure };
  return { state: 'down', latencyMs, storage, ...failure };
}

/** How long a check's result answers the next checks, by default: see `SharedHealthCheck`. */
export const DEFAULT_HEALTH_REUSE_MS = 1_000;

/**
 * Health checks that share their probes, so that a health route hit N times (it is often public)
 * costs the store one call per `reuseMs`, not N: checks that arrive while a probe is in flight wait
 * for it, and its result answers the checks that follow within `reuseMs` by the module's clock
 * (`0`: none; each check then probes, unless one is in flight).
 */
export class SharedHealthCheck {
  private inFlight: Promise<RampartHealth> | undefined;
  private last: { readonly health: RampartHealth; readonly atMs: number } | undefined;

  constructor(private readonly rampart: RampartHealthSource) {}

  /** @throws RangeError when `reuseMs` is not an integer of 0 or more */
  check(reuseMs: number = DEFAULT_HEALTH_REUSE_MS): Promise<RampartHealth> {
    if (!Number.isInteger(reuseMs) || reuseMs < 0) throw new RangeError(messages.notNonNegativeInteger('reuseMs', reuseMs));
    if (this.inFlight) return this.inFlight;
    const nowMs = this.rampart.config.clock.now();
    const { last } = this;
    if (last && nowMs >= last.atMs && nowMs - last.atMs < reuseMs) return Promise.resolve(last.health);
    const probe = checkRampartHealth(this.rampart)
      .then((health) => {
        this.last = { health, atMs: nowMs };
        return health;
      })
      .finally(() => (this.inFlight = undefined));
    this.inFlight = probe;
    return probe;
  }
}
