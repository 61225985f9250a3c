import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import type { Violation, ViolationStore } from '../storage/violation-store.interface.js';
import type { Bounded } from './ban-sync.js';
import type { StoreHealth } from './store-health.js';

/** Violations held in memory while the store is down, written when it is back. */
export const MAX_HELD_VIOLATIONS = 10_000;

/**
 * Writes violations to the ViolationStore, never losing one silently: a failed write is retried
 * once and then logged as an error line carrying the violation; a violation met while the store is
 * down (or while its key's queue is full) is held, up to MAX_HELD_VIOLATIONS, and written when the
 * store takes writes again, where it counts towards the key's next escalation.
 */
export class ViolationWriter {
  private held: Violation[] = [];
  private droppedHeld = 0;
  private writingHeld = false;

  constructor(
    private readonly violations: ViolationStore,
    private readonly health: StoreHealth,
    private readonly logger: RampartLogger,
    private readonly bounded: Bounded,
  ) {
    health.onUp(() => void this.writeHeld());
  }

  /** Writes a violation, retrying once; logs it as an error line when both attempts fail. */
  async record(violation: Violation): Promise<boolean> {
    try {
      await this.bounded(() => this.violations.record(violation));
    } catch {
      try {
        await this.bounded(() => this.violations.record(violation));
      } catch (error) {
        this.logger.error(messages.violationNotRecorded(violation, error));
        return false;
      }
    }
    // The storage takes writes: violations held meanwhile (a queue that was full) can go too.
    if (this.held.length > 0 && !this.health.isDown) void this.writeHeld();
    return true;
  }

  /** Keeps a violation to be written when the store is back (or dropped, counted, past the cap). */
  hold(violation: Violation): void {
    if (this.held.length < MAX_HELD_VIOLATIONS) this.held.push(violation);
    else this.droppedHeld++;
  }

  /** Writes the violations held during an outage, off any request's path. */
  private async writeHeld(): Promise<void> {
    if (this.writingHeld) return;
    this.writingHeld = true;
    try {
      await this.writeHeldOnce();
    } finally {
      this.writingHeld = false;
    }
  }

  private async writeHeldOnce(): Promise<void> {
    const held = this.held;
    const dropped = this.droppedHeld;
    this.held = [];
    this.droppedHeld = 0;
    if (held.length === 0 && dropped === 0) return;
    let recorded = 0;
    let failed = 0;
    for (let i = 0; i < held.length; i++) {
      if (this.health.isDown) {
        // Down again: keep the rest for the next recovery rather than log each one as lost.
        const kept = [...held.slice(i), ...this.held];
        this.droppedHeld += Math.max(0, kept.length - MAX_HELD_VIOLATIONS);
        this.held = kept.slice(0, MAX_HELD_VIOLATIONS);
        break;
      }
      // (record() does not start another catch-up while this one runs.)
      if (await this.record(held[i]!)) recorded++;
      else failed++;
    }
    this.logger.log(messages.violationsHeld(recorded, failed, dropped, MAX_HELD_VIOLATIONS));
  }
}
