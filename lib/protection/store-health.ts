import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { RAMPART_EVENTS } from '../events/rate-limit-events.js';

/**
 * Storage calls off a request's path (escalation, ban polls, admin requests) wait at most this many
 * times `storeTimeoutMs` (5 s by default): longer than a request would, but never forever.
 */
export const STORAGE_STEP_TIMEOUT_FACTOR = 10;

/** A store call that took longer than `storeTimeoutMs`. */
export class StoreTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(messages.storeTimedOut(timeoutMs));
    this.name = 'StoreTimeoutError';
  }
}

/**
 * Calls `call()` and hands its result to `onValue`, or its error (also one thrown synchronously) or
 * a StoreTimeoutError after `timeoutMs` to `onError`: whichever comes first, exactly once. One
 * timer, cleared as soon as the call settles; a late rejection of an abandoned call is absorbed, so
 * neither a timer nor an unhandled rejection outlives the caller.
 */
export function settleWithin<T>(call: () => Promise<T>, timeoutMs: number, onValue: (value: T) => void, onError: (error: unknown) => void): void {
  let pending: Promise<T>;
  try {
    pending = Promise.resolve(call());
  } catch (error) {
    pending = Promise.reject(error as Error);
  }
  let settled = false;
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    onError(new StoreTimeoutError(timeoutMs));
  }, timeoutMs);
  pending.then(
    (value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onValue(value);
    },
    (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onError(error);
    },
  );
}

/** `call()`'s result, or a StoreTimeoutError after `timeoutMs` (see settleWithin). */
export function withTimeout<T>(call: () => Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => settleWithin(call, timeoutMs, resolve, reject));
}

/** How a StoreHealth checks a store that is down. */
export interface StoreProbe {
  /** A call to the store like a request's; its success brings the store back. */
  readonly run: () => Promise<unknown>;
  /** Longest wait for one probe. */
  readonly timeoutMs: number;
  /** Pause between the end of one probe and the next. */
  readonly intervalMs: number;
}

/**
 * Whether the rate-limit store is answering, as seen by this instance's requests. The first failure
 * or timeout marks it down and the next success up again, each transition logged once and
 * announced (`storeDown` / `storeUp`). Only calls started after the last transition's call may
 * change the state, so a slow call that began before a recovery cannot mark the store down again.
 *
 * While the store is down, requests do not call it (`begin()` returns undefined): they are answered
 * at once by the outage policy, and a probe in the background (never keeping the process alive)
 * tries the store every `intervalMs` until it answers.
 */
export class StoreHealth {
  private calls = 0;
  /** Number of the call that made the last transition. */
  private transitionCall = 0;
  /** Clock time at which the store went down; undefined while up. */
  private downSinceMs: number | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly upListeners: Array<() => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly events: EventPublisher,
    private readonly logger: RampartLogger,
    private readonly fallback: boolean,
    private readonly probe?: StoreProbe,
  ) {}

  get isDown(): boolean {
    return this.downSinceMs !== undefined;
  }

  /** Numbers a store call about to start; pass it to `succeeded` or `failed`. */
  start(): number {
    return ++this.calls;
  }

  /**
   * Numbers a request's store call about to start, like `start()`, while the store is up; undefined
   * while it is down: answer without it.
   */
  begin(): number | undefined {
    return this.downSinceMs === undefined ? ++this.calls : undefined;
  }

  /** Runs `listener` after each transition to up (after the log line and the event). */
  onUp(listener: () => void): void {
    this.upListeners.push(listener);
  }

  succeeded(call: number): void {
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
    if (this.downSinceMs !== undefined || call <= this.transitionCall) return;
    const atMs = this.clock.now();
    const reason = error instanceof Error ? error.message : String(error);
    this.downSinceMs = atMs;
    this.transitionCall = call;
    this.logger.warn(messages.storeDown(reason, this.fallback));
    this.events.publish(RAMPART_EVENTS.storeDown, { reason, atMs });
    this.scheduleProbe();
  }

  /** Stops probing (at shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private scheduleProbe(): void {
    const probe = this.probe;
    if (probe === undefined || this.stopped || this.probeTimer !== undefined) return;
    this.probeTimer = setTimeout(() => {
      const call = this.start();
      withTimeout(probe.run, probe.timeoutMs)
        .then(
          () => this.succeeded(call),
          () => undefined,
        )
        .finally(() => {
          this.probeTimer = undefined;
          if (this.isDown) this.scheduleProbe();
        });
    }, probe.intervalMs);
    this.probeTimer.unref?.();
  }
}
