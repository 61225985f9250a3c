import { ConfigurableModuleBuilder } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { adminModuleParts } from './admin/admin.providers.js';
import { RateLimitGuard } from './rate-limit.guard.js';
import type { RateLimitModuleExtras, RateLimitModuleOptions } from './rate-limit-options.interface.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RATE_LIMIT_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RateLimitModuleOptions>({ moduleName: 'RateLimit' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRateLimitOptions')
  .setExtras<RateLimitModuleExtras>({ isGlobal: true, registerGlobalGuard: true }, (definition, extras) => {
    const admin = extras.admin === undefined ? undefined : adminModuleParts(extras.admin);
    return {
      ...definition,
      global: extras.isGlobal,
      ...(admin ? { controllers: [...(definition.controllers ?? []), ...admin.controllers] } : {}),
      providers: [
        ...(definition.providers ?? []),
        ...(extras.registerGlobalGuard ? [{ provide: APP_GUARD, useExisting: RateLimitGuard }] : []),
        ...(admin?.providers ?? []),
      ],
    };
  })
  .build();
