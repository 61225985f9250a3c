import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/ddos-messages.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { shadowKey } from '../engine/store-keys.js';
import { announceBan } from '../protection/ban-announcer.js';
import type { BanSync, Bounded } from '../protection/ban-sync.js';
import type { StoreHealth } from '../protection/store-health.js';
import { isBanActive, type BanTarget } from '../storage/ban-store.interface.js';
import type { BanStore } from '../storage/ban-store.interface.js';

/** Name written as `createdBy` on DDoS blocks. */
const CREATOR = 'rampart';
/** Blocks being written at once; a suspect past it is judged again at its next request. */
export const MAX_BLOCKS_IN_FLIGHT = 64;

export interface DdosBlockerParts {
  readonly bans: BanStore;
  readonly cache: BanSync;
  readonly events: EventPublisher;
  readonly logger: RampartLogger;
  readonly bounded: Bounded;
  readonly health: StoreHealth;
  /** Shadow mode: blocks go to `shadow:<key>`, reported and never enforced. */
  readonly shadow: boolean;
}

/**
 * Writes DDoS blocks as ban records (`source: 'ddos'`, temporary) in the shared ban store: every
 * instance enforces them within the ban sync bound, the admin API lists them, an operator lifts
 * them as any. In shadow mode they block `shadow:<key>` instead, as escalation does: reported, never
 * enforced. A key that already has a ban or block in force keeps it (a DDoS block never shortens
 * a longer one); a record changed by another instance meanwhile is adopted, not overwritten.
 */
export class DdosBlocker {
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(private readonly parts: DdosBlockerParts) {}

  /** Blocks being written. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Resolves once every block under way is written (or has failed). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight.values());
  }

  /**
   * Blocks `key` for `durationMs` from `nowMs`, in the background. False when it is not tried now
   * (too many writes under way, or the store is down): the caller may try again later.
   */
  block(key: string, durationMs: number, nowMs: number, reason: string): boolean {
    if (this.inFlight.has(key)) return true;
    if (this.inFlight.size >= MAX_BLOCKS_IN_FLIGHT || this.parts.health.isDown) return false;
    const target = { type: 'key', key: this.parts.shadow ? shadowKey(key) : key } as const;
    const run = this.write(target, durationMs, nowMs, reason).catch((error: unknown) => {
      this.parts.logger.error(messages.ddosBlockFailed(key, error));
      return false;
    });
    this.inFlight.set(key, run);
    void run.then(() => this.inFlight.delete(key));
    return true;
  }

  private async write(target: BanTarget & { type: 'key' }, durationMs: number, nowMs: number, reason: string): Promise<boolean> {
    const { bans, cache, bounded, events } = this.parts;
    const known = cache.checkKey(target.key, nowMs);
    if (known.status === 'banned' || known.status === 'blocked') return false;
    const previous = await bounded(() => bans.get(target));
    if (previous && isBanActive(previous, nowMs)) {
      cache.applyBan(previous, nowMs);
      return false;
    }
    const ban = await bounded(() =>
      bans.put({ target, kind: 'temporary', reason, source: 'ddos', createdBy: CREATOR, expiresAtMs: nowMs + durationMs, violationCount: 0 }, nowMs, {
        expectedVersion: previous?.version ?? null,
      }),
    );
    if (ban === null) {
      // Another instance wrote the record meanwhile (its own DDoS block, an escalation): adopt it.
      const current = await bounded(() => bans.get(target));
      if (current && isBanActive(current, nowMs)) cache.applyBan(current, nowMs);
      return false;
    }
    cache.applyBan(ban, nowMs);
    announceBan(events, ban, nowMs);
    return true;
  }
}
