import { errorText } from '../errors/describe.js';
import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import { StorageSetupError } from '../storage/storage-setup.error.js';
import type { BanSync } from './ban-sync.js';
import { withTimeout, type StoreHealth } from './store-health.js';

/** Violations older than `violationRetentionMs` are purged this often. */
export const PURGE_INTERVAL_MS = 3_600_000;

export interface StorageLifecycleOptions {
  readonly storage: RampartStorage;
  readonly bans: BanSync;
  readonly health: StoreHealth;
  readonly clock: Clock;
  readonly logger: RampartLogger;
  readonly storeStartupTimeoutMs: number;
  readonly requireStore: boolean;
  readonly storeFallback: boolean;
  readonly banSyncIntervalMs: number;
  readonly violationRetentionMs: number;
}

/**
 * The storage from startup to shutdown: its `init()` and the first load of bans and lists (waited
 * for at most `storeStartupTimeoutMs`, then retried in the background unless `requireStore`), the
 * timer that polls ban and list changes and purges old violations (never keeping the process
 * alive), and its `close()`.
 */
export class StorageLifecycle {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastPurgeMs = -Infinity;
  private stopped = false;
  /** Whether the storage's `init()` and the first load of bans and lists have succeeded. */
  private ready = false;
  /** The storage's preparation in flight (at startup, then retried by the timer until ready). */
  private preparing: Promise<void> | undefined;
  /** Last preparation failure logged, so that a retry failing the same way is not logged again. */
  private lastPrepareFailure: string | undefined;
  private startupAtMs = 0;
  private starting: Promise<void> | undefined;

  constructor(private readonly options: StorageLifecycleOptions) {}

  /** Whether the storage is prepared and the stored bans and lists are loaded. */
  get storageReady(): boolean {
    return this.ready;
  }

  /**
   * Prepares the storage and loads the bans and lists, waiting at most `storeStartupTimeoutMs`.
   * When that is not enough, starts without the storage (requests are answered by the outage
   * policy) and the timer tries again until it is ready; with `requireStore`, fails instead. A
   * StorageSetupError (the database answered, but cannot be used as it is) met within that wait
   * fails; met later, it is logged and retried like any other failure, until it is fixed.
   */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error(messages.startAfterStop()));
    // A second call waits for the first rather than starting a second timer.
    this.starting ??= this.run();
    return this.starting;
  }

  private async run(): Promise<void> {
    this.startupAtMs = Date.now();
    const { storeStartupTimeoutMs, requireStore, health, logger, banSyncIntervalMs, storeFallback } = this.options;
    try {
      await withTimeout(() => this.prepare(), storeStartupTimeoutMs);
    } catch (error) {
      const reason = errorText(error);
      if (error instanceof StorageSetupError) throw error;
      if (requireStore) throw new Error(messages.storageRequired(storeStartupTimeoutMs, reason), { cause: error });
      this.lastPrepareFailure = reason;
      logger.warn(messages.storageNotReady(storeStartupTimeoutMs, reason, banSyncIntervalMs, storeFallback));
      // Requests answer by the outage policy at once rather than each waiting for the timeout.
      health.down(error);
    }
    // Stopped while starting: no timer outlives the stop.
    if (this.stopped) return;
    this.timer = setInterval(() => this.tick(), banSyncIntervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer and the store probe, for good: a stopped lifecycle does not start again. */
  stop(): void {
    this.stopped = true;
    this.options.health.stop();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Closes the storage (after the server has stopped taking requests). */
  async close(): Promise<void> {
    await this.options.storage.close?.();
  }

  /** The storage's `init()` then the first full load; one run at a time. */
  private prepare(): Promise<void> {
    this.preparing ??= (async () => {
      try {
        const { storage, storeStartupTimeoutMs } = this.options;
        const { init } = storage;
        // Bounded so that an init() that never answers is tried again (Mongo: the same connection attempt is awaited).
        if (init) await withTimeout(() => init.call(storage), storeStartupTimeoutMs);
        await this.options.bans.syncNow();
        this.ready = true;
        if (this.lastPrepareFailure !== undefined) this.options.logger.log(messages.storageReady(Date.now() - this.startupAtMs));
      } finally {
        this.preparing = undefined;
      }
    })();
    return this.preparing;
  }

  /** Tries the storage again after a failed or slow startup. */
  private retryPrepare(): void {
    if (this.preparing !== undefined) return;
    this.prepare().catch((error: unknown) => {
      const reason = errorText(error);
      if (this.stopped || reason === this.lastPrepareFailure) return;
      this.lastPrepareFailure = reason;
      this.options.logger.error(messages.storagePrepareFailed(reason, this.options.banSyncIntervalMs));
    });
  }

  private tick(): void {
    if (this.stopped) return;
    if (!this.ready) return this.retryPrepare();
    const { bans, clock, storage, logger, violationRetentionMs } = this.options;
    if (bans.polling) return; // a slow store: skip rather than pile polls up
    bans.syncNow().catch((error: unknown) => {
      if (!this.stopped) logger.error(messages.banSyncFailed(error));
    });
    const nowMs = clock.now();
    if (nowMs - this.lastPurgeMs >= PURGE_INTERVAL_MS) {
      this.lastPurgeMs = nowMs;
      storage.violations.purge(nowMs - violationRetentionMs).catch((error: unknown) => logger.warn(messages.purgeFailed(error)));
    }
  }
}
