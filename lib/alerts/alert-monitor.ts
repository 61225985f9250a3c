import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import { errorText } from '../errors/describe.js';
import * as messages from '../errors/messages.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { RAMPART_EVENTS, type AlertEvent, type AlertLevel, type AlertMetric } from '../events/rate-limit-events.js';
import type { DecisionRecorder } from '../observability/decision-recorder.js';
import type { StatsReport } from '../observability/fleet-stats.js';
import { fleetStats } from '../observability/fleet.js';
import { withTimeout } from '../protection/store-health.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import type { AlertsConfig } from './alert-config.js';
import { AlertCooldowns, cooldownKey } from './alert-cooldowns.js';
import { AlertDispatcher } from './alert-dispatcher.js';
import { alertStats } from './alert-payload.js';

const METRICS: readonly AlertMetric[] = ['blockRate', 'violationsPerMinute', 'ddosScore'];

export interface AlertMonitorParts {
  /** This instance's statistics. */
  readonly recorder: DecisionRecorder;
  /** Its `stats` part gives the other instances' figures, its `leases` part shares cooldowns. */
  readonly storage: RampartStorage;
  readonly events: EventPublisher;
  readonly clock: Clock;
  readonly logger: RampartLogger;
  /** Longest wait for one storage call of an evaluation. */
  readonly storageTimeoutMs: number;
  /** This instance's DDoS detection (`ddosScore` is watched only with it). */
  readonly ddos?: { peakScore(): number } | undefined;
}

/**
 * Evaluates the `alerts` thresholds every `intervalMs` (from `start` to `stop`, on a timer that
 * never keeps the process alive) against the figures of the last `windowMs` (`fleetStats`: the
 * whole fleet's when the storage keeps every instance's statistics, this instance's otherwise;
 * nothing is counted here). For each metric, the highest level reached is the alert; a critical
 * alert supersedes the warning (no warning is sent while the critical one is cooling down). An
 * alert whose cooldown this instance claims (see `AlertCooldowns`) is published as `rampart.alert`
 * and handed to the `AlertDispatcher`.
 */
export class AlertMonitor {
  readonly dispatcher: AlertDispatcher;
  private readonly cooldowns: AlertCooldowns;
  private timer: ReturnType<typeof setInterval> | undefined;
  private evaluating: Promise<AlertEvent[]> | undefined;
  private lastFailure: string | undefined;

  constructor(
    readonly config: AlertsConfig,
    private readonly parts: AlertMonitorParts,
  ) {
    this.dispatcher = new AlertDispatcher(config, parts.clock, parts.logger);
    this.cooldowns = new AlertCooldowns(parts.storage.leases, config.cooldownMs, parts.storageTimeoutMs, parts.logger);
  }

  /** Evaluates every `intervalMs` until `stop`. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.evaluate(), this.config.intervalMs);
    this.timer.unref?.();
  }

  /** Stops evaluating; queued alerts get at most `retry.timeoutMs` to be delivered. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.evaluating;
    await this.dispatcher.stop();
  }

  /**
   * Evaluates the thresholds now, at the clock's time, and answers the alerts sent (none while one
   * is cooling down). An evaluation already under way is answered instead of starting another.
   * Never rejects: a storage failure is logged, and the alerts are evaluated at the next interval.
   */
  evaluate(): Promise<AlertEvent[]> {
    if (this.evaluating) return this.evaluating;
    const evaluation = (this.evaluating = this.run());
    void evaluation.then(() => {
      if (this.evaluating === evaluation) this.evaluating = undefined;
    });
    return evaluation;
  }

  private async run(): Promise<AlertEvent[]> {
    const { recorder, storage, clock, storageTimeoutMs } = this.parts;
    try {
      const nowMs = clock.now();
      const report = await withTimeout(() => fleetStats(recorder, storage.stats, nowMs, this.config.windowMs), storageTimeoutMs);
      const sent: AlertEvent[] = [];
      for (const metric of METRICS) {
        const event = await this.check(metric, report, nowMs);
        if (event) sent.push(event);
      }
      this.lastFailure = undefined;
      return sent;
    } catch (error) {
      if (errorText(error) !== this.lastFailure) this.parts.logger.warn(messages.alertEvaluationFailed(error));
      this.lastFailure = errorText(error);
      return [];
    }
  }

  /** The alert of `metric` sent now, if any. */
  private async check(metric: AlertMetric, report: StatsReport, nowMs: number): Promise<AlertEvent | undefined> {
    const levels = this.config.thresholds[metric];
    if (levels === false) return undefined;
    if (metric === 'blockRate' && report.requests < this.config.minRequests) return undefined;
    const { ddos } = this.parts;
    if (metric === 'ddosScore' && ddos === undefined) return undefined;
    const value = metric === 'ddosScore' ? ddos!.peakScore() : report[metric];
    const level: AlertLevel | undefined =
      levels.critical !== undefined && value >= levels.critical ? 'critical' : levels.warning !== undefined && value >= levels.warning ? 'warning' : undefined;
    if (level === undefined) return undefined;
    if (level === 'warning' && levels.critical !== undefined && (await this.cooldowns.cooling(cooldownKey(metric, 'critical'), nowMs))) return undefined;
    if (!(await this.cooldowns.claim(cooldownKey(metric, level), nowMs))) return undefined;
    const event: AlertEvent = {
      id: randomUUID(),
      alert: metric,
      level,
      value,
      threshold: levels[level] as number,
      windowMs: this.config.windowMs,
      atMs: nowMs,
      instance: this.parts.recorder.instance,
      stats: alertStats(report),
    };
    this.parts.events.publish(RAMPART_EVENTS.alert, event);
    this.dispatcher.send(event);
    return event;
  }
}
