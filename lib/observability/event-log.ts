import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import type { EventPublisher } from '../events/event-publisher.js';
import type { ViolationEvent } from '../events/rate-limit-events.js';
import type { BanTarget } from '../storage/ban-store.interface.js';
import {
  banLine,
  blockLine,
  overflowLine,
  suppressedLine,
  unbanLine,
  violationContext,
  violationLine,
  type EventLine,
  type ViolationContext,
} from './event-lines.js';
import type { LoggingConfig, RampartLogLevel } from './logging-config.js';

/** A client key whose violation was logged: since when its next ones are left out, and how many were. */
interface KeyWindow {
  readonly sinceMs: number;
  suppressed: number;
  /** The key's last violation, for its summary and for its block or ban line. */
  last: ViolationContext;
}

/**
 * Logs each violation, block, ban and unban (see `LoggingOptions`), from the events. Violations
 * are rate-limited per client key: the first is logged, those within the next `intervalMs` (by the
 * module's clock) are counted, and once the interval is over one summary line tells how many were
 * left out: at the key's next violation, or at the latest when the interval ends (a timer that
 * never keeps the process alive, armed only while keys are followed). At most `maxKeys` keys are
 * followed at once; violations of further keys are counted together and told in one line.
 * Blocks, bans and unbans are always logged: escalation itself bounds them.
 */
export class EventLog {
  /** Followed keys, oldest first (a key is re-inserted when its interval starts again). */
  private readonly keys = new Map<string, KeyWindow>();
  /** Violations of keys beyond `maxKeys`, not logged yet, and since when. */
  private overflow = 0;
  private overflowSinceMs = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly config: LoggingConfig,
    private readonly logger: RampartLogger,
    private readonly clock: Clock,
  ) {}

  /** Logs the events of `events` until `stop`. */
  listen(events: EventPublisher): void {
    this.stopListening?.();
    this.stopListening = events.subscribe({
      onViolation: (event) => this.violation(event),
      onBlock: (event) => this.write(this.config.block, blockLine(event, this.lastOf(event.target))),
      onBan: (event) => this.write(this.config.ban, banLine(event, this.lastOf(event.target))),
      onUnban: (event) => this.write(this.config.unban, unbanLine(event)),
    });
  }

  /** Stops listening, and logs the summaries still due. */
  stop(): void {
    this.stopListening?.();
    this.stopListening = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sweep(Infinity);
  }

  private violation(event: ViolationEvent): void {
    if (this.config.violation === false) return;
    const nowMs = this.clock.now();
    const context = violationContext(event);
    const { key } = event;
    const followed = this.keys.get(key);
    if (followed !== undefined) {
      if (nowMs - followed.sinceMs < this.config.intervalMs) {
        followed.suppressed++;
        followed.last = context;
        return;
      }
      this.end(key, followed);
    } else if (this.keys.size >= this.config.maxKeys) {
      this.sweep(nowMs);
      if (this.keys.size >= this.config.maxKeys) {
        if (this.overflow++ === 0) this.overflowSinceMs = nowMs;
        return;
      }
    }
    this.write(this.config.violation, violationLine(key, context));
    this.keys.set(key, { sinceMs: nowMs, suppressed: 0, last: context });
    this.arm(nowMs);
  }

  /** Ends the interval of every key (and of the overflow count) that is over at `nowMs`. */
  private sweep(nowMs: number): void {
    for (const [key, followed] of this.keys) {
      if (nowMs - followed.sinceMs < this.config.intervalMs) break;
      this.end(key, followed);
    }
    if (this.overflow > 0 && nowMs - this.overflowSinceMs >= this.config.intervalMs) {
      this.write(this.config.violation, overflowLine(this.overflow, this.config.maxKeys));
      this.overflow = 0;
    }
  }

  /** Forgets a key, with its summary line when violations were left out. */
  private end(key: string, followed: KeyWindow): void {
    this.keys.delete(key);
    if (followed.suppressed > 0 && this.config.violation !== false) {
      this.write(this.config.violation, suppressedLine(key, followed.suppressed, this.config.intervalMs, followed.last));
    }
  }

  /** Sweeps when the oldest interval (of a followed key, or of the overflow count) ends. */
  private arm(nowMs: number): void {
    if (this.timer !== undefined) return;
    const oldest = this.keys.values().next().value?.sinceMs ?? (this.overflow > 0 ? this.overflowSinceMs : undefined);
    if (oldest === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const at = this.clock.now();
        this.sweep(at);
        this.arm(at);
      },
      Math.max(1, oldest + this.config.intervalMs - nowMs),
    );
    this.timer.unref?.();
  }

  private lastOf(target: BanTarget): ViolationContext | undefined {
    return target.type === 'key' ? this.keys.get(target.key)?.last : undefined;
  }

  private write(level: RampartLogLevel | false, { message, fields }: EventLine): void {
    const { logger } = this;
    switch (level) {
      case false:
        return;
      case 'log':
      case 'warn':
      case 'error':
        return logger[level](message, fields);
      case 'debug':
      case 'verbose':
        return (logger[level] ?? logger.log).call(logger, message, fields);
    }
  }
}
