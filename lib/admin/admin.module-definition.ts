import { ConfigurableModuleBuilder } from '@nestjs/common';
import { adminModuleParts } from './admin.providers.js';
import { RATE_LIMIT_ADMIN_OPTIONS } from './admin.constants.js';
import type { RateLimitAdminModuleOptions, RateLimitAdminOptions } from './admin-options.interface.js';

export const {
  ConfigurableModuleClass: AdminConfigurableModuleClass,
  OPTIONS_TYPE: ADMIN_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ADMIN_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RateLimitAdminModuleOptions>({ moduleName: 'RateLimitAdmin', optionsInjectionToken: RATE_LIMIT_ADMIN_OPTIONS })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRateLimitAdminOptions')
  .setExtras<RateLimitAdminOptions>(
    { path: undefined, guard: undefined, authorize: undefined, routeDecorators: undefined, dashboard: undefined },
    (definition, extras) => {
      const parts = adminModuleParts({
        ...(extras.path !== undefined ? { path: extras.path } : {}),
        ...(extras.guard !== undefined ? { guard: extras.guard } : {}),
        ...(extras.authorize !== undefined ? { authorize: extras.authorize } : {}),
        ...(extras.routeDecorators !== undefined ? { routeDecorators: extras.routeDecorators } : {}),
        ...(extras.dashboard !== undefined ? { dashboard: extras.dashboard } : {}),
      });
      return {
        ...definition,
        controllers: [...(definition.controllers ?? []), ...parts.controllers],
        providers: [...(definition.providers ?? []), ...parts.providers],
      };
    },
  )
  .build();
