import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RampartHealthIndicator } from './rampart-health.indicator.js';

/**
 * Provides `RampartHealthIndicator` to the module that imports it (with `TerminusModule`, for its
 * `HealthCheckService`). `RateLimitModule` must be in the app (it is global by default).
 *
 * @example
 * \@Module({ imports: [TerminusModule, RampartHealthModule], controllers: [HealthController] })
 * export class HealthModule {}
 */
@Module({
  imports: [TerminusModule],
  providers: [RampartHealthIndicator],
  exports: [RampartHealthIndicator],
})
export class RampartHealthModule {}
