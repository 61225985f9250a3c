import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import { withTimeout } from '../protection/store-health.js';
import type { StatsStore } from '../storage/stats-store.interface.js';
import type { DecisionRecorder } from './decision-recorder.js';

/** What a StatsReporter needs besides the recorder and the store. */
export interface StatsReporterOptions {
  readonly clock: Clock;
  readonly logger: RampartLogger;
  /** Longest wait for one write (the storage step timeout). */
  readonly timeoutMs: number;
}

/**
 * Writes this instance's statistics summary to the storage every `stats.reportIntervalMs`, kept
 * until `stats.retentionMs` after the write, so that the stats API of every instance sums the whole
 * fleet. The timer never keeps the process alive; writes never overlap. A failed write is logged
 * once per outage (and its end once), never thrown.
 */
export class StatsReporter {
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The write under way (or the last one), which the next waits for. */
  private writing: Promise<boolean> = Promise.resolve(true);
  private busy = false;
  private failing = false;

  constructor(
    private readonly recorder: DecisionRecorder,
    private readonly store: StatsStore,
    private readonly options: StatsReporterOptions,
  ) {}

  /** Whether the timer runs. */
  get started(): boolean {
    return this.timer !== undefined;
  }

  /** Starts writing every `reportIntervalMs` (the first write one interval from now). Idempotent. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      // A write slower than the interval is not queued behind: the next tick writes newer figures.
      if (!this.busy) void this.flush();
    }, this.recorder.config.reportIntervalMs);
    this.timer.unref?.();
  }

  /**
   * Writes the summary now (after a write under way). Resolves with whether it was written; never
   * rejects.
   */
  flush(): Promise<boolean> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  /**
   * Stops the timer and writes a last summary (call it while the storage still takes writes); not
   * when the last write failed, so that a shutdown during an outage does not wait for the storage.
   */
  async stop(): Promise<boolean> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    return this.failing ? false : this.flush();
  }

  private async write(): Promise<boolean> {
    this.busy = true;
    const nowMs = this.options.clock.now();
    try {
      const summary = this.recorder.summary(nowMs);
      await withTimeout(() => this.store.put(summary, nowMs + this.recorder.config.retentionMs), this.options.timeoutMs);
      if (this.failing) this.options.logger.log(messages.statsWrittenAgain());
      this.failing = false;
      return true;
    } catch (error) {
      if (!this.failing) this.options.logger.warn(messages.statsNotWritten(error));
      this.failing = true;
      return false;
    } finally {
      this.busy = false;
    }
  }
}
