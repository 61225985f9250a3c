import { randomUUID } from 'node:crypto';
import type { RampartLogger } from '../core/logger.js';
import { errorText } from '../errors/describe.js';
import * as messages from '../errors/messages.js';
import type { AlertLevel, AlertMetric } from '../events/rate-limit-events.js';
import { withTimeout } from '../protection/store-health.js';
import type { LeaseStore } from '../storage/lease-store.interface.js';

/** The lease key of an alert's cooldown, shared by every instance. */
export const cooldownKey = (alert: AlertMetric, level: AlertLevel) => `alert:${alert}:${level}`;

/**
 * When each alert (a metric at a level) may be sent again. An instance sends an alert only once it
 * has claimed its cooldown: in this instance's memory, and, when the storage keeps leases, in the
 * lease store too, as a lease of one slot on `alert:<metric>:<level>` that lapses after the
 * cooldown. The holder is this object's own, never renewed (the `LeaseKeeper` renews every lease of
 * its holder, and gives them all back at shutdown: a cooldown must outlive both), so that the
 * first instance to claim an alert sends it and the others stay quiet until the lease lapses.
 *
 * While the lease store fails, cooldowns are kept per instance (logged once per failure): the
 * fleet may then send an alert once per instance, which is better than not at all.
 */
export class AlertCooldowns {
  private readonly holder = `alerts:${randomUUID()}`;
  private sequence = 0;
  /** Lease key → when this instance's own cooldown of it ends (epoch ms). */
  private readonly until = new Map<string, number>();
  private lastFailure: string | undefined;

  constructor(
    private readonly leases: LeaseStore | undefined,
    private readonly cooldownMs: number,
    private readonly timeoutMs: number,
    private readonly logger: RampartLogger,
  ) {}

  /** Claims `key` at `nowMs`: true when this instance is to send the alert now. */
  async claim(key: string, nowMs: number): Promise<boolean> {
    if ((this.until.get(key) ?? -Infinity) > nowMs) return false;
    const leases = this.leases;
    if (leases !== undefined) {
      const lease = { id: `${this.holder}:${++this.sequence}`, holder: this.holder, expiresAtMs: nowMs + this.cooldownMs };
      const taken = await this.shared(() => leases.acquire(key, lease, 1, nowMs));
      if (taken?.acquired === false) return false;
    }
    this.until.set(key, nowMs + this.cooldownMs);
    return true;
  }

  /** Whether `key` is cooling down at `nowMs`, after a claim of this instance or (with leases) of another. */
  async cooling(key: string, nowMs: number): Promise<boolean> {
    if ((this.until.get(key) ?? -Infinity) > nowMs) return true;
    const leases = this.leases;
    if (leases === undefined) return false;
    return ((await this.shared(() => leases.count(key, nowMs))) ?? 0) > 0;
  }

  /** A lease store call, bounded; undefined (and logged once per failure) when it fails. */
  private async shared<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await withTimeout(call, this.timeoutMs);
      this.lastFailure = undefined;
      return result;
    } catch (error) {
      if (errorText(error) !== this.lastFailure) this.logger.warn(messages.alertCooldownUnshared(error));
      this.lastFailure = errorText(error);
      return undefined;
    }
  }
}
