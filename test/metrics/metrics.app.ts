import { Controller, Get } from '@nestjs/common';
import type { ModuleMetadata } from '@nestjs/common';
import { Registry } from 'prom-client';
import { RateLimitModule, SkipThrottle, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';
import { RampartMetricsModule } from '../../lib/metrics/index.js';
import type { RampartMetricsExtras, RampartMetricsModuleOptions } from '../../lib/metrics/index.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';

export const ADMIN_KEY = 'admin-key-for-metrics-0123456789';
export const BEARER = `Bearer ${ADMIN_KEY}`;

@Controller()
export class MetricsTrafficController {
  /** The module's rule: 3 requests a minute. */
  @Get('ping') ping() {
    return 'pong';
  }

  /** Only a shadow rule: 1 request a minute, never refused. */
  @SkipThrottle('default')
  @Throttle({ name: 'candidate', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', shadow: true })
  @Get('shadowed')
  shadowed() {
    return 'ok';
  }
}

/** 3 requests a minute per client (by X-Forwarded-For from loopback); 2 violations block for a minute; no permanent ban. */
export function metricsAppModule(
  clock: FakeClock,
  metrics: RampartMetricsModuleOptions & RampartMetricsExtras = { registry: new Registry() },
  options: RateLimitModuleOptions = {},
): ModuleMetadata {
  return {
    imports: [
      RateLimitModule.forRoot({
        rules: [{ name: 'default', limit: 3, windowMs: 60_000, algorithm: 'fixed-window' }],
        escalation: { blockAfterViolations: 2, blockDurationMs: 60_000, permanentBanAfter: 0 },
        clock,
        storage: memoryStorage(),
        trustProxy: { proxies: ['loopback'] },
        adminApiKey: ADMIN_KEY,
        admin: {},
        ...options,
      }),
      RampartMetricsModule.forRoot(metrics),
    ],
    controllers: [MetricsTrafficController],
  };
}
