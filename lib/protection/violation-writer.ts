import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import type { Violation, ViolationStore } from '../storage/violation-store.interface.js';
import type { Bounded } from './ban-sync.js';
import type { StoreHealth } from './store-health.js';

/** Violations held in memory while the store is down, written when it is back. */
export const MAX_HELD_VIOLATIONS = 10_000;
/**
 * Longest wait of a violation held while the store is up (its key's queue was full) before a write
 * of the held violations starts; its key's queue draining starts one sooner.
 */
export const MAX_HELD_WAIT_MS = 1_000;

/**
 * Writes violations to the ViolationStore, never losing one silently: a failed write is retried
 * once and then logged as an error line carrying the violation; a violation met while the store is
 * down (or while its key's queue is full) is held, up to MAX_HELD_VIOLATIONS, and written when the
 * store takes writes again (or, when it never went down, as soon as the key's queue drains, at
 * most MAX_HELD_WAIT_MS later), where it counts towards the key's next escalation.
 */
export class ViolationWriter {
  private held: Violation[] = [];
  private droppedHeld = 0;
  /** Set by `stop`: nothing more is written. */
  private stopped = false;
  private writingHeld: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

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
    this.flush();
    return true;
  }

  /**
   * Keeps a violation to be written when the store is back (or dropped, counted, past the cap).
   * While the store is up, a write of the held violations starts within MAX_HELD_WAIT_MS.
   */
  hold(violation: Violation): void {
    if (this.held.length < MAX_HELD_VIOLATIONS) this.held.push(violation);
    else this.droppedHeld++;
    if (this.timer === undefined && !this.health.isDown) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, MAX_HELD_WAIT_MS);
      this.timer.unref?.();
    }
  }

  /** Starts writing the held violations, off any request's path, unless the store is down. */
  flush(): void {
    if ((this.held.length > 0 || this.droppedHeld > 0) && !this.paused) void this.writeHeld();
  }

  /** Stops the timer and writes what is held while the store takes writes (at shutdown). */
  async drain(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.health.isDown) await this.writeHeld();
    const left = this.held.length + this.droppedHeld;
    if (left > 0) this.logger.warn(messages.heldViolationsLost(left));
  }

  /**
   * Stops writing held violations for good (the storage is about to close): a catch-up under way
   * stops before its next write.
   */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Whether held violations cannot be written now: the store is down, or the writer stopped. */
  private get paused(): boolean {
    return this.stopped || this.health.isDown;
  }

  /** Writes the held violations, batch after batch until none is left or the store is down. */
  private writeHeld(): Promise<void> {
    this.writingHeld ??= (async () => {
      try {
        while ((this.held.length > 0 || this.droppedHeld > 0) && !this.paused) await this.writeHeldOnce();
      } finally {
        this.writingHeld = undefined;
      }
    })();
    return this.writingHeld;
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
      if (this.paused) {
        // Down again (or stopped): keep the rest for the next recovery rather than log each one as lost.
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
