import type { Clock } from '../../lib/core/clock.js';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(private ms = Date.UTC(2030, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}
