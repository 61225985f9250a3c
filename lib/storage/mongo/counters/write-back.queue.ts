import type { RampartLogger } from '../../../core/logger.js';

/**
 * Writes a store makes after it has answered (a denied increment given back, stale counters
 * removed). None is dropped silently: a failed one is counted and logged with what it leaves behind.
 * `flush()` waits for those started so far (for shutdown and tests).
 */
export class WriteBackQueue {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly logger: RampartLogger,
    private readonly onFailure: () => void,
  ) {}

  /** Lets `write` finish off the caller's path; if it fails, `failure` and the error are logged as a warning. */
  add(write: Promise<unknown>, failure: string): void {
    const tracked = write.then(
      () => undefined,
      (error: unknown) => {
        this.onFailure();
        try {
          this.logger.warn(`${failure}: ${error instanceof Error ? error.message : String(error)}`);
        } catch {
          // A logger that throws must not turn a failed write-back into an unhandled rejection.
        }
      },
    );
    this.pending.add(tracked);
    void tracked.then(() => this.pending.delete(tracked));
  }

  /** Resolves when every write started so far has finished (or failed and been reported). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
