import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { checkAdminExtras } from './admin/admin-settings.js';
import type { RateLimitAdminOptions } from './admin/admin-options.interface.js';
import { adminNeedsGlobalModule } from './errors/messages.js';
import { RateLimitConfigurationError } from './errors/rate-limit-configuration.error.js';
import { moduleConcurrencyProviders } from './http-concurrency/module-concurrency.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import type { RateLimitModuleExtras, RateLimitModuleOptions } from './rate-limit-options.interface.js';

/**
 * RateLimitAdminModule for the `admin` extra, loaded only then: an app without the admin API loads
 * none of its code (controllers, DTOs, class-validator, class-transformer).
 */
async function adminModule(admin: RateLimitAdminOptions): Promise<DynamicModule> {
  const { RateLimitAdminModule } = await import('./admin/rate-limit-admin.module.js');
  return RateLimitAdminModule.forRoot(admin);
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RATE_LIMIT_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RateLimitModuleOptions>({ moduleName: 'RateLimit' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRateLimitOptions')
  .setExtras<RateLimitModuleExtras>({ isGlobal: true, registerGlobalGuard: true }, (definition, extras) => {
    // Checked here, when the module is defined: a bad path or guard fails at once.
    const admin = extras.admin === undefined ? undefined : checkAdminExtras(extras.admin);
    // The admin module finds RateLimitService through the global scope.
    if (admin && extras.isGlobal === false) throw new RateLimitConfigurationError([adminNeedsGlobalModule()]);
    return {
      ...definition,
      global: extras.isGlobal,
      ...(admin ? { imports: [...(definition.imports ?? []), adminModule(admin)] } : {}),
      providers: [
        ...(definition.providers ?? []),
        ...(extras.registerGlobalGuard ? [{ provide: APP_GUARD, useExisting: RateLimitGuard }] : []),
        ...moduleConcurrencyProviders(extras.concurrency),
      ],
    };
  })
  .build();
