import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { Rampart } from '../engine/rampart.js';
import { SharedHealthCheck } from './rampart-health.js';

/** Options of `RampartHealthIndicator.isHealthy`. */
export interface RampartHealthCheckOptions {
  /**
   * How "degraded" (the store is not counting, the in-process fallback is: limits hold per
   * instance) is reported. `'degraded'`: terminus's own status (from @nestjs/terminus 12): the check
   * answers 200 with the overall status `degraded`; with terminus 11, which lacks it, `'up'`.
   * `'up'`: the check passes. `'down'`: the check fails (503), e.g. for a readiness probe that must
   * take an instance without its shared store out of rotation. In every case the data says
   * `degraded: true, fallback: 'counting'`.
   * @default 'degraded'
   */
  whenDegraded?: 'degraded' | 'up' | 'down';
  /**
   * How long, in milliseconds by the module's clock, a probe's result answers the checks that
   * follow it (checks that arrive while a probe is in flight always share it): a health route hit
   * N times a second costs the store one call a second. `0`: every check probes (unless one is in
   * flight).
   * @default 1000
   */
  reuseMs?: number;
}

/**
 * A `@nestjs/terminus` health indicator for Rampart's rate-limit storage: a check probes the
 * store with one real call (a count on a key of its own) bounded by `storeTimeoutMs` (concurrent
 * checks share one probe, whose result is reused for `reuseMs`), and reports
 * `up`, `down` or degraded (see `RampartHealthState`) with `latencyMs`, `storage` (`ready` or
 * `not-ready`), and `degraded: true, fallback: 'counting'` while the in-process fallback counts.
 * The probe never marks the store down or up: only requests and the outage probe do.
 *
 * @example
 * \@Get('health')
 * \@HealthCheck()
 * check() {
 *   return this.health.check([() => this.rampart.isHealthy('rampart')]);
 * }
 */
@Injectable()
export class RampartHealthIndicator {
  private readonly checks: SharedHealthCheck;

  constructor(
    rampart: Rampart,
    private readonly indicators: HealthIndicatorService,
  ) {
    this.checks = new SharedHealthCheck(rampart);
  }

  async isHealthy<const Key extends string = 'rampart'>(
    key: Key = 'rampart' as Key,
    options: RampartHealthCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const { state, ...data } = await this.checks.check(options.reuseMs);
    const session = this.indicators.check(key);
    if (state === 'up') return session.up(data);
    if (state === 'down') return session.down(data);
    const whenDegraded = options.whenDegraded ?? 'degraded';
    if (whenDegraded === 'down') return session.down(data);
    // Terminus 11 has no `degraded` status: reported as up there (the data still says degraded).
    if (whenDegraded === 'degraded' && typeof session.degraded === 'function') return session.degraded(data);
    return session.up(data);
  }
}
