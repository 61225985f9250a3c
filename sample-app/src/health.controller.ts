import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { SkipThrottle } from 'nest-rampart';
import { RampartHealthIndicator } from 'nest-rampart/terminus';

/**
 * `GET /health` with @nestjs/terminus: the rate-limit storage's health (up, degraded while the
 * in-process fallback counts, or down), the probe's latency and whether the storage is ready.
 * Probes must never be refused: no rule counts this controller, and it gets no rate-limit headers.
 */
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly rampart: RampartHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.rampart.isHealthy('rampart')]);
  }
}
