import { Logger, Module, type NestModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Rampart } from './engine/rampart.js';
import { RateLimitService } from './protection/rate-limit.service.js';
import type { RateLimitConfig } from './rate-limit.config.js';
import { loadRateLimitConfig } from './config-file/module-config.js';
import { RateLimitPolicy } from './config-file/rate-limit-policy.js';
import { RateLimitLifecycle } from './rate-limit.lifecycle.js';
import { RATE_LIMIT_CONFIG, RATE_LIMIT_STORAGE, RATE_LIMIT_STORE } from './rate-limit.constants.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import { ConfigurableModuleClass, RATE_LIMIT_OPTIONS } from './rate-limit.module-definition.js';
import type { RateLimitModuleOptions } from './rate-limit-options.interface.js';
import { RouteRulesResolver } from './route-rules.resolver.js';
import { OutcomePlacement } from './outcome/outcome-placement.js';

/**
 * Rate limiting for a Nest app.
 *
 * @example
 * RateLimitModule.forRoot({ rules: [{ limit: 100, windowMs: 60_000 }] })
 *
 * @example
 * // Shared by every instance (mongoStorage: the nest-rampart/mongo entry point); repeat offenders blocked
 * // after 5 violations instead of 3.
 * RateLimitModule.forRoot({ storage: mongoStorage({ connection }), escalation: { blockAfterViolations: 5 } })
 *
 * @example
 * RateLimitModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ rules: [{ limit: config.get('RATE_LIMIT'), windowMs: 60_000 }] }),
 * })
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: RATE_LIMIT_CONFIG,
      inject: [RATE_LIMIT_OPTIONS],
      useFactory: (options: RateLimitModuleOptions) => loadRateLimitConfig({ ...options, logger: options?.logger ?? new Logger('RateLimit') }),
    },
    { provide: Rampart, inject: [RATE_LIMIT_CONFIG], useFactory: (config: RateLimitConfig) => new Rampart(config) },
    { provide: RateLimitService, inject: [Rampart], useFactory: (rampart: Rampart) => rampart.service },
    { provide: RATE_LIMIT_STORE, inject: [RATE_LIMIT_CONFIG], useFactory: (config: RateLimitConfig) => config.store },
    { provide: RATE_LIMIT_STORAGE, inject: [RATE_LIMIT_CONFIG], useFactory: (config: RateLimitConfig) => config.storage },
    RouteRulesResolver,
    RateLimitLifecycle,
    RateLimitGuard,
    RateLimitPolicy,
    OutcomePlacement,
  ],
  exports: [
    RATE_LIMIT_OPTIONS,
    RATE_LIMIT_CONFIG,
    RATE_LIMIT_STORE,
    RATE_LIMIT_STORAGE,
    RouteRulesResolver,
    Rampart,
    RateLimitService,
    RateLimitGuard,
    RateLimitPolicy,
  ],
})
export class RateLimitModule extends ConfigurableModuleClass implements NestModule {
  constructor(private readonly outcomes: OutcomePlacement) {
    super();
  }

  /** Before the app's routes are built: Rampart's guard first where rules count outcomes (see `OutcomePlacement`). */
  configure(): void {
    this.outcomes.place();
  }
}
