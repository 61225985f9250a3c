import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AdminConfigurableModuleClass } from './admin.module-definition.js';

/**
 * The admin REST API (bans, violations, allow/deny lists, client views) as a module of its own, on
 * RateLimitModule's `RateLimitService`. An app without it loads none of its code (controllers, DTOs,
 * class-validator, class-transformer). RateLimitModule must be global (its default) for it to
 * find the service. RateLimitModule's `admin` extra is a shorthand for importing it.
 *
 * @example
 * imports: [
 *   RateLimitModule.forRoot({ storage }),
 *   RateLimitAdminModule.forRootAsync({
 *     path: 'ops/rate-limit',
 *     inject: [ConfigService],
 *     useFactory: (config: ConfigService) => ({ apiKey: config.getOrThrow('RATE_LIMIT_ADMIN_KEY') }),
 *   }),
 * ]
 */
@Module({ imports: [DiscoveryModule] })
export class RateLimitAdminModule extends AdminConfigurableModuleClass {}
