import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import type { StoreErrorPolicy } from '../engine/rule.interface.js';
import type { LeaseAcquisition, LeaseStore } from '../storage/lease-store.interface.js';
import { STORAGE_STEP_TIMEOUT_FACTOR, withTimeout } from './store-health.js';

/** How long a lease outlives the instance that holds it unless `leaseMs` says otherwise. */
export const DEFAULT_LEASE_MS = 30_000;
/** Store failures of leases are logged at most this often. */
const WARN_INTERVAL_MS = 10_000;

/** A slot taken: call `release` once it is free again (more calls do nothing). */
export interface LeaseGrant {
  readonly status: 'granted';
  /** Leases on the pool once this one was taken (0 when the store was down and the policy admits). */
  readonly held: number;
  release(): void;
}

/** Every slot of the pool is taken. */
export interface LeaseRefusal {
  readonly status: 'refused';
  readonly held: number;
  readonly limit: number;
}

/** The lease store did not answer, and the policy refuses. */
export interface LeaseUnavailable {
  readonly status: 'unavailable';
}

export type LeaseOutcome = LeaseGrant | LeaseRefusal | LeaseUnavailable;

export interface LeaseKeeperOptions {
  readonly clock: Clock;
  /** How long a lease lives without renewal: the longest a dead instance's slots stay taken. */
  readonly leaseMs: number;
  /** Longest wait for the store when taking a lease. */
  readonly timeoutMs: number;
  readonly logger: RampartLogger;
}

/**
 * The slots of concurrency limits (WebSocket connections per client, requests in flight), held by
 * this instance in the storage's lease store, so that a limit holds across instances. Each lease
 * lives `leaseMs`; the keeper renews all of its leases together every third of that (one store
 * call), and gives them all back at `stop`. An instance that dies without a word holds its slots
 * until its leases lapse, at most `leaseMs` later.
 */
export class LeaseKeeper {
  /** This instance, as the holder of its leases. */
  readonly holder = randomUUID();
  private sequence = 0;
  /** Lease id → pool key, for the leases this instance holds. */
  private readonly held = new Map<string, string>();
  /**
   * Leases given back while the store failed (id → pool key): given back again before each
   * renewal, since a renewal would otherwise keep them alive with the others of this holder.
   */
  private readonly unreleased = new Map<string, string>();
  /** Whether this instance ever took a lease (its shutdown then gives them all back). */
  private everHeld = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastWarningMs = -Infinity;

  constructor(
    private readonly store: LeaseStore | undefined,
    private readonly options: LeaseKeeperOptions,
  ) {}

  /** Leases this instance holds. */
  get size(): number {
    return this.held.size;
  }

  /** Whether the storage keeps leases (`storage.leases`). */
  get available(): boolean {
    return this.store !== undefined;
  }

  /**
   * Takes a slot of the pool `key`, of `limit` slots. While the store fails or does not answer in
   * `timeoutMs`, `onStoreError` decides: `deny` (the default: concurrency limits fail closed)
   * answers `unavailable`, `allow` grants a slot nobody counts.
   */
  async acquire(key: string, limit: number, onStoreError: StoreErrorPolicy = 'deny'): Promise<LeaseOutcome> {
    const store = this.store;
    if (store === undefined) throw new Error(messages.noLeaseStore());
    const nowMs = this.options.clock.now();
    const id = `${this.holder}:${++this.sequence}`;
    this.renewing();
    this.everHeld = true;
    const taking = new Promise<LeaseAcquisition>((resolve) =>
      resolve(store.acquire(key, { id, holder: this.holder, expiresAtMs: nowMs + this.options.leaseMs }, limit, nowMs)),
    );
    try {
      const result = await withTimeout(() => taking, this.options.timeoutMs);
      if (!result.acquired) return { status: 'refused', held: result.held, limit };
      this.held.set(id, key);
      return { status: 'granted', held: result.held, release: () => this.release(id) };
    } catch (error) {
      // A call that timed out may still take the lease once it ends: given back then.
      taking.then(
        (late) => {
          if (late.acquired) this.giveBack(key, id);
        },
        () => undefined,
      );
      this.warn(messages.leaseStoreFailed('take', error));
      return onStoreError === 'allow' ? { status: 'granted', held: 0, release: () => undefined } : { status: 'unavailable' };
    }
  }

  /** Live leases on the pool `key` (every instance's). */
  count(key: string): Promise<number> {
    if (this.store === undefined) return Promise.resolve(0);
    return this.store.count(key, this.options.clock.now());
  }

  /** Stops renewing and gives back every lease of this instance (its slots come free at once). */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const store = this.store;
    // Releases of connections closed during shutdown may still be on their way: all given back here.
    if (store === undefined || !this.everHeld) return;
    this.held.clear();
    this.unreleased.clear();
    try {
      await withTimeout(() => store.releaseHolder(this.holder), STORAGE_STEP_TIMEOUT_FACTOR * this.options.timeoutMs);
    } catch (error) {
      this.options.logger.warn(messages.leaseStoreFailed('give back', error));
    }
  }

  private release(id: string): void {
    const key = this.held.get(id);
    if (key === undefined) return;
    this.held.delete(id);
    this.giveBack(key, id);
  }

  /** Gives a lease back; one the store fails to take back is given back again before each renewal. */
  private giveBack(key: string, id: string): void {
    const store = this.store;
    if (store === undefined) return;
    this.unreleased.delete(id);
    store.release(key, id).catch((error: unknown) => {
      this.unreleased.set(id, key);
      this.warn(messages.leaseStoreFailed('give back', error));
    });
  }

  /** Starts the renewal timer with the first lease (an app without concurrency limits has none). */
  private renewing(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.renew(), Math.max(1, Math.floor(this.options.leaseMs / 3)));
    this.timer.unref?.();
  }

  private renew(): void {
    const store = this.store;
    for (const [id, key] of [...this.unreleased]) this.giveBack(key, id);
    if (store === undefined || this.held.size === 0) return;
    const nowMs = this.options.clock.now();
    withTimeout(() => store.renew(this.holder, nowMs, nowMs + this.options.leaseMs), STORAGE_STEP_TIMEOUT_FACTOR * this.options.timeoutMs).catch(
      (error: unknown) => this.warn(messages.leaseStoreFailed('renew', error)),
    );
  }

  private warn(message: string): void {
    const nowMs = Date.now();
    if (nowMs - this.lastWarningMs < WARN_INTERVAL_MS) return;
    this.lastWarningMs = nowMs;
    this.options.logger.warn(message);
  }
}
