import { Controller, Get, Query } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { RateLimitModule, SkipThrottle, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';
import { RampartHealthIndicator, RampartHealthModule, type RampartHealthCheckOptions } from '../../lib/terminus/index.js';
import { startApp, type AdapterName, type TestApp } from '../support/http-app.js';

/** `/health` as a terminus user writes it; `?whenDegraded=` picks how degraded is reported, `?reuseMs=` how long a probe's result is reused. */
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly rampart: RampartHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(@Query('whenDegraded') whenDegraded?: RampartHealthCheckOptions['whenDegraded'], @Query('reuseMs') reuseMs?: string) {
    const options: RampartHealthCheckOptions = { ...(whenDegraded ? { whenDegraded } : {}), ...(reuseMs !== undefined ? { reuseMs: Number(reuseMs) } : {}) };
    return this.health.check([() => this.rampart.isHealthy('rampart', options)]);
  }
}

/** A route limited to 2 requests a minute: the third is refused when anything counts. */
@Controller()
export class LimitedController {
  @Throttle({ name: 'tight', limit: 2, windowMs: 60_000, algorithm: 'fixed-window', onStoreError: 'allow' })
  @Get('limited')
  limited() {
    return 'ok';
  }
}

/** An app with TerminusModule, RampartHealthModule, `/health` and `/limited`. */
export function startHealthApp(adapter: AdapterName, options: RateLimitModuleOptions): Promise<TestApp> {
  return startApp(adapter, {
    imports: [RateLimitModule.forRoot({ rules: [], ...options }), TerminusModule.forRoot({ logger: false }), RampartHealthModule],
    controllers: [HealthController, LimitedController],
  });
}
