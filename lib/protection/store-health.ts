import { Logger } from '@nestjs/common';
import type { Clock } from '../core/clock.js';
import * as messages from '../errors/messages.js';
import { RAMPART_EVENTS } from '../events/rate-limit-events.js';
import type { RateLimitEventsPublisher } from '../events/rate-limit-events.publisher.js';

/** A store call that took longer than `storeTimeoutMs`. */
export class StoreTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(messages.storeTimedOut(timeoutMs));
    this.name = 'StoreTimeoutError';
  }
}

/**
 * `call()`'s result, or a StoreTimeoutError after `timeoutMs`. A call that throws synchronously
 * rejects instead. The timer is cleared as soon as either side settles, and a late rejection of
 * the abandoned call is caught, so neither a timer nor an unhandled rejection outlives the request.
 */
export function withTimeout<T>(call: () => Promise<T>, timeoutMs: number): Promise<T> {
  let pending: Promise<T>;
  try {
    pending = call();
  } catch (error) {
    return Promise.reject(error as Error);
  }
  pending.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(timeoutMs)), timeoutMs);
  });
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Whether the rate-limit store is answering, as seen by this instance's requests. The first failure
 * or timeout marks it down and the next success up again, each transition logged once and
 * announced (`storeDown` / `storeUp`). Only calls started after the last transition's call may
 * change the state, so a slow call that began before a recovery cannot mark the store down again.
 *
 * While the store is down, one call at a time probes it (`begin()` hands out one number at a time);
 * the other requests are answered at once by the outage policy instead of each waiting for the
 * timeout and leaving a command queued in the driver.
 */
export class StoreHealth {
  private readonly logger = new Logger('RateLimit');
  private calls = 0;
  /** Number of the call that made the last transition. */
  private transitionCall = 0;
  /** Clock time at which the store went down; undefined while up. */
  private downSinceMs: number | undefined;
  /** The call probing the store while it is down. */
  private probeCall: number | undefined;
  private readonly upListeners: Array<() => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly events: RateLimitEventsPublisher,
    private readonly fallback: boolean,
  ) {}

  get isDown(): boolean {
    return this.downSinceMs !== undefined;
  }

  /** Numbers a store call about to start; pass it to `succeeded` or `failed`. */
  start(): number {
    return ++this.calls;
  }

  /**
   * Numbers a store call about to start, like `start()`, while the store is up or no other call is
   * probing it; undefined when the store is down and another call is probing it: answer without it.
   */
  begin(): number | undefined {
    if (this.downSinceMs === undefined) return ++this.calls;
    if (this.probeCall !== undefined) return undefined;
    this.probeCall = ++this.calls;
    return this.probeCall;
  }

  /** Runs `listener` after each transition to up (after the log line and the event). */
  onUp(listener: () => void): void {
    this.upListeners.push(listener);
  }

  succeeded(call: number): void {
    if (call === this.probeCall) this.probeCall = undefined;
    if (this.downSinceMs === undefined || call <= this.transitionCall) return;
    const atMs = this.clock.now();
    const downForMs = Math.max(0, atMs - this.downSinceMs);
    this.downSinceMs = undefined;
    this.transitionCall = call;
    this.logger.log(messages.storeUp(downForMs));
    this.events.publish(RAMPART_EVENTS.storeUp, { downForMs, atMs });
    for (const listener of this.upListeners) listener();
  }

  failed(call: number, error: unknown): void {
    if (call === this.probeCall) this.probeCall = undefined;
    if (this.downSinceMs !== undefined || call <= this.transitionCall) return;
    const atMs = this.clock.now();
    const reason = error instanceof Error ? error.message : String(error);
    this.downSinceMs = atMs;
    this.transitionCall = call;
    this.logger.warn(messages.storeDown(reason, this.fallback));
    this.events.publish(RAMPART_EVENTS.storeDown, { reason, atMs });
  }
}
