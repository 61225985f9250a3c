import { Controller, Get, Post } from '@nestjs/common';
import { RateLimitModule, SkipThrottle, Throttle, type RampartStorage, type RateLimitModuleOptions } from '../../lib/index.js';
import type { FakeClock } from '../support/fake-clock.js';

@Controller()
export class EscalationController {
  @Get('data') data() {
    return { ok: true };
  }

  /** A rule with its own block: requests inside that block are not violations. */
  @SkipThrottle('default')
  @Throttle({ name: 'login', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', blockDurationMs: 120_000 })
  @Post('login')
  login() {
    return { token: 't' };
  }

  /** A rule whose violations never lead to a block. */
  @SkipThrottle('default')
  @Throttle({ name: 'search', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', escalation: false })
  @Get('search')
  search() {
    return { results: [] };
  }

  /** A rule that escalates sooner than the module: a block after 2 violations, 1 minute long. */
  @SkipThrottle('default')
  @Throttle({ name: 'otp', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', escalation: { blockAfterViolations: 2, blockDurationMs: 60_000 } })
  @Post('otp')
  otp() {
    return { sent: true };
  }
}

/** One request per minute on every route; escalation with the defaults unless `options` says otherwise. */
export const escalationModule = (clock: FakeClock, storage: RampartStorage, options: RateLimitModuleOptions = {}) => ({
  imports: [RateLimitModule.forRoot({ clock, storage, rules: [{ limit: 1, windowMs: 60_000, algorithm: 'fixed-window' }], ...options })],
  controllers: [EscalationController],
});
