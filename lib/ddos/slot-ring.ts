import { DDOS_SLOTS } from './ddos-options.js';

/**
 * Requests and errors over the last `DDOS_SLOTS` slots of a window (the current slot, partly
 * elapsed, and the ones before it), in fixed-size arrays: its memory does not grow with traffic.
 * Slots are numbered `floor(nowMs / slotMs)`; an event of a slot already out of the ring is dropped.
 */
export class SlotRing {
  /** The newest slot's number. */
  private head = -Infinity;
  private readonly counts = new Uint32Array(DDOS_SLOTS);
  private readonly errorCounts = new Uint32Array(DDOS_SLOTS);
  /** Requests in the ring. */
  total = 0;
  /** Errors in the ring. */
  errors = 0;

  /** Moves the ring to `slot`, emptying the slots it passes (no change for a slot not after the head). */
  advance(slot: number): void {
    const steps = slot - this.head;
    if (!(steps > 0)) return;
    if (steps >= DDOS_SLOTS) {
      this.counts.fill(0);
      this.errorCounts.fill(0);
      this.total = 0;
      this.errors = 0;
    } else {
      for (let s = this.head + 1; s <= slot; s++) {
        const i = s % DDOS_SLOTS;
        this.total -= this.counts[i]!;
        this.errors -= this.errorCounts[i]!;
        this.counts[i] = 0;
        this.errorCounts[i] = 0;
      }
    }
    this.head = slot;
  }

  /** Counts a request (an error too, when `error`) in `slot`. */
  add(slot: number, error: boolean): void {
    this.advance(slot);
    if (slot <= this.head - DDOS_SLOTS) return;
    const i = slot % DDOS_SLOTS;
    this.counts[i]!++;
    this.total++;
    if (error) {
      this.errorCounts[i]!++;
      this.errors++;
    }
  }

  /** Counts an error of a request already counted (a response's status, known later). */
  addError(slot: number): void {
    this.advance(slot);
    if (slot <= this.head - DDOS_SLOTS) return;
    this.errorCounts[slot % DDOS_SLOTS]!++;
    this.errors++;
  }

  /** The most requests of one slot. */
  peak(): number {
    let peak = 0;
    for (let i = 0; i < DDOS_SLOTS; i++) if (this.counts[i]! > peak) peak = this.counts[i]!;
    return peak;
  }

  /** The newest slot's number (-Infinity before the first event). */
  get newest(): number {
    return this.head;
  }
}
