import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/refund-messages.js';

/**
 * Reports refunds that could not be made, once per burst rather than once per request: the first
 * failure of a burst is logged at once with its reason, the others are counted and summed up in one
 * line when a refund succeeds again. A logger that throws is ignored (a refund never throws).
 */
export class RefundFailures {
  private failing = false;
  private missed = 0;
  /** Refunds that failed or were skipped since the store was created. */
  total = 0;
  private toldUnsupported = false;

  constructor(private readonly logger: RampartLogger) {}

  /** A refund for `key` failed with `error`, or was skipped (`error` undefined) because the store is down. */
  failed(key: string, error?: unknown): void {
    this.total++;
    if (this.failing) {
      this.missed++;
      return;
    }
    this.failing = true;
    this.missed = 0;
    const reason = error instanceof Error ? error.message : String(error);
    this.report(() => this.logger.warn(error === undefined ? messages.refundsSkippedStoreDown(key) : messages.refundFailed(key, reason)));
  }

  /** A refund asked of a store that has no `refund` (said once: the startup check should have refused). */
  unsupported(storeName: string): void {
    this.total++;
    if (this.toldUnsupported) return;
    this.toldUnsupported = true;
    this.report(() => this.logger.error(messages.storeCannotRefund(storeName)));
  }

  /** A refund succeeded: ends a burst of failures. */
  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    const { missed } = this;
    if (missed > 0) this.report(() => this.logger.log(messages.refundsRecovered(missed)));
  }

  private report(write: () => void): void {
    try {
      write();
    } catch {
      // Reporting must not turn a failed refund into an error of the request.
    }
  }
}
