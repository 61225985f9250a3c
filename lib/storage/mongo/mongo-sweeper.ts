import { systemClock, type Clock } from '../../core/clock.js';
import { checkDurationOption } from '../store-input.js';

/** A store that can delete its records past their retention (the Mongo ban, violation and access-list stores). */
export interface SweepableStore {
  /** Deletes what is past its retention at `nowMs`; returns how many records went. */
  sweep(nowMs: number): Promise<number>;
}

/** The stores a sweeper cleans, by name (`bans`, `violations`, `accessList`, or any other). */
export type MongoSweeperStores<K extends string = string> = Readonly<Partial<Record<K, SweepableStore>>>;

export interface MongoSweeperOptions {
  /** Time between sweeps. @default 60_000 */
  intervalMs?: number;
  /** Source of `nowMs` for scheduled sweeps (the app's clock). @default systemClock */
  clock?: Clock;
  /**
   * Receives the error of a failed scheduled sweep (the next one runs as planned).
   * @default a process warning
   */
  onError?: (error: unknown) => void;
}

/** Records deleted by one sweep, per store name. */
export type SweepCounts<K extends string = string> = Record<K, number>;

/**
 * Deletes expired records of the Mongo stores on a timer: violations past their retention, temporary
 * bans past their expiry plus the history retention, lifted bans past the history retention, ended
 * access-list entries (and whatever another `SweepableStore` counts as expired). It does what TTL
 * indexes do on MongoDB, for servers that do not enforce TTL (the mongo-java-server stand-in accepts
 * and lists TTL indexes but never expires anything). Running it next to TTL indexes is harmless:
 * both delete the same records. `mongoStorage()` starts it only with `sweeper: true` or
 * `ttlIndexes: false`.
 *
 * Nothing depends on it for correctness: every read compares the stored expiry with the caller's
 * clock. The timer is unref'd, so it never keeps the process alive; sweeps never overlap.
 *
 * @example
 * const sweeper = new MongoSweeper({ bans, violations, accessList }, { intervalMs: 60_000 });
 * sweeper.start();
 * // on shutdown
 * sweeper.stop();
 */
export class MongoSweeper<K extends string = string> {
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private readonly onError: (error: unknown) => void;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<SweepCounts<K>> | undefined;

  constructor(
    private readonly stores: MongoSweeperStores<K>,
    options: MongoSweeperOptions = {},
  ) {
    this.intervalMs = checkDurationOption(options.intervalMs, 'MongoSweeper: intervalMs', 60_000);
    this.clock = options.clock ?? systemClock;
    this.onError =
      options.onError ?? ((error) => process.emitWarning(`MongoSweeper: a sweep failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  /** Whether the timer is running. */
  get started(): boolean {
    return this.timer !== undefined;
  }

  /** Starts sweeping every `intervalMs` (the first sweep one interval from now). Idempotent. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      if (this.running !== undefined) return;
      this.sweepOnce(this.clock.now()).catch(this.onError);
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer (a sweep under way finishes). Idempotent. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sweep of every store at `nowMs`; resolves with how many records each lost. */
  async sweepOnce(nowMs: number = this.clock.now()): Promise<SweepCounts<K>> {
    const run = this.sweepAll(nowMs);
    this.running = run;
    try {
      return await run;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  private async sweepAll(nowMs: number): Promise<SweepCounts<K>> {
    const entries = Object.entries(this.stores) as Array<[K, SweepableStore | undefined]>;
    const counts = await Promise.all(entries.map(async ([, store]) => (store === undefined ? 0 : store.sweep(nowMs))));
    return Object.fromEntries(entries.map(([name], i) => [name, counts[i]!])) as SweepCounts<K>;
  }
}
