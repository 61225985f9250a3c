import { Controller, Get } from '@nestjs/common';
import { RateLimitModule, type RampartStorage, type RateLimitModuleOptions } from '../../lib/index.js';
import type { AlertOptions } from '../../lib/alerts/alert-options.interface.js';
import type { FakeClock } from '../support/fake-clock.js';

/** The only route: 18 requests per minute per client (fixed windows), so that traffic sets the block rate exactly. */
export const LIMIT = 18;

@Controller()
export class AlertsController {
  @Get('data') data() {
    return { ok: true };
  }
}

/**
 * An app whose alerts are evaluated only when a test calls `evaluate()` (the timer's interval is an
 * hour); without escalation, so that every refusal is a 429 of the rule (limited, never blocked).
 */
export const alertsModule = (clock: FakeClock, storage: RampartStorage, alerts: AlertOptions, options: RateLimitModuleOptions = {}) => ({
  imports: [
    RateLimitModule.forRoot({
      clock,
      storage,
      rules: [{ limit: LIMIT, windowMs: 60_000, algorithm: 'fixed-window' }],
      escalation: false,
      alerts: { intervalMs: 3_600_000, ...alerts },
      ...options,
    }),
  ],
  controllers: [AlertsController],
});
