import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import { PROBE_KEY, PROBE_RULE } from '../engine/store-keys.js';
import * as messages from '../errors/messages.js';
import type { EventPublisher } from '../events/event-publisher.js';
import type { RateLimitStore } from '../storage/rate-limit-store.interface.js';
import { RAMPART_EVENTS } from '../events/rate-limit-events.js';
import { StoreBreaker, DEFAULT_STORE_BREAKER, type StoreBreakerOptions } from './store-breaker.js';

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

/**
 * One probe of the rate-limit store: a count on its own key (`PROBE_KEY`, under a limit it never
 * reaches), as a request's would be. The outage probe and the health indicator both call it.
 */
export function probeStore(store: Pick<RateLimitStore, 'consume'>, clock: Clock): Promise<unknown> {
  return Promise.resolve(store.consume(PROBE_KEY, PROBE_RULE, clock.now(), 1));
}

/** How a StoreHealth checks a store that is down. */
export interface StoreProbe {
  /** A call to the store like a request's; its success brings the store back. */
  readonly run: () => Promise<unknown>;
  /**
   * A read of the store, made at once when a request's call fails with an error, to tell a failing
   * key from a failing store (a read rather than a count: no state is written for it).
   */
  readonly check?: () => Promise<unknown>;
  /** Longest wait for one probe. */
  readonly timeoutMs: number;
  /** Pause between the end of one probe and the next. */
  readonly intervalMs: number;
}

/**
 * Whether the rate-limit store is answering, as seen by this instance's requests. A failed or
 * timed-out request call marks it down only by the rule of `StoreBreaker` (the store went silent, or
 * failures within a window concern several keys); any other failure is that key's own, answered
 * without the store for that call only. The next success brings it up again. Each transition is
 * logged once and announced (`storeDown` / `storeUp`). Only calls started after the last
 * transition's call may change the state, so a slow call that began before a recovery cannot mark
 * the store down again.
 *
 * While the store is down, requests do not call it (`begin()` returns undefined): they are answered
 * at once by the outage policy, and a probe in the background (never keeping the process alive)
 * tries the store every `intervalMs` until it answers.
 */
export class StoreHealth {
  private calls = 0;
  /** Number of the call that made the last transition. */
  private transitionCall = 0;
  /** Value of `calls` at the last success: a call numbered at most this began before a success. */
  private lastSuccessSeen = 0;
  /** Clock time at which the store went down; undefined while up. */
  private downSinceMs: number | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly upListeners: Array<() => void> = [];
  private readonly breaker: StoreBreaker;
  /** Whether a check started by a failed call is in flight. */
  private checking = false;
  /** Failed or timed-out request calls answered without the store that did not mark it down. */
  private keyFailureCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly events: EventPublisher,
    private readonly logger: RampartLogger,
    private readonly fallback: boolean,
    private readonly probe?: StoreProbe,
    breaker: StoreBreakerOptions = DEFAULT_STORE_BREAKER,
  ) {
    this.breaker = new StoreBreaker(breaker);
  }

  get isDown(): boolean {
    return this.downSinceMs !== undefined;
  }

  /** Failed or timed-out request calls that were one key's own (they did not mark the store down). */
  get keyFailures(): number {
    return this.keyFailureCount;
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
    this.lastSuccessSeen = this.calls;
    if (this.downSinceMs === undefined || call <= this.transitionCall) return;
    const atMs = this.clock.now();
    const downForMs = Math.max(0, atMs - this.downSinceMs);
    this.downSinceMs = undefined;
    this.transitionCall = call;
    this.breaker.clear();
    this.logger.log(messages.storeUp(downForMs));
    this.events.publish(RAMPART_EVENTS.storeUp, { downForMs, atMs });
    for (const listener of this.upListeners) listener();
  }

  /**
   * A request's call for `client` (its address key) failed or timed out. Marks the store down by the breaker's rule (see
   * StoreBreaker): at once when it holds, or once the check a failed call starts fails too. Returns
   * whether the store is down now; otherwise the failure is the key's own and only this call is
   * answered without the store.
   */
  failed(call: number, error: unknown, client: string): boolean {
    if (this.downSinceMs !== undefined) return true;
    if (call <= this.transitionCall) return false;
    const often = this.breaker.failedOften(client, this.clock.now());
    // Timed out with no success since it began: the store answered nothing for a whole timeout.
    const silent = error instanceof StoreTimeoutError && this.lastSuccessSeen < call;
    if (often || silent) {
      this.markDown(call, error);
      return true;
    }
    this.keyFailureCount++;
    if (!(error instanceof StoreTimeoutError)) this.check(error);
    return false;
  }

  /** Marks the store down at once (the storage could not be prepared at startup). */
  down(error: unknown): void {
    if (this.downSinceMs === undefined) this.markDown(++this.calls, error);
  }

  private markDown(call: number, error: unknown): void {
    const atMs = this.clock.now();
    const reason = error instanceof Error ? error.message : String(error);
    this.downSinceMs = atMs;
    this.transitionCall = call;
    this.breaker.clear();
    this.logger.warn(messages.storeDown(reason, this.fallback));
    this.events.publish(RAMPART_EVENTS.storeDown, { reason, atMs });
    this.scheduleProbe();
  }

  /**
   * Asks the store whether a failed call was its key's own: one read (one at a time); when that
   * fails or times out too, the store is down.
   */
  private check(error: unknown): void {
    const check = this.probe?.check;
    if (check === undefined || this.checking || this.stopped) return;
    this.checking = true;
    const call = this.start();
    withTimeout(check, this.probe!.timeoutMs)
      .then(
        () => this.succeeded(call),
        () => {
          if (this.downSinceMs === undefined && call > this.transitionCall) this.markDown(call, error);
        },
      )
      .finally(() => (this.checking = false));
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
