import type { Provider, Type } from '@nestjs/common';
import type { RateLimitConfig } from '../rate-limit.config.js';
import { RATE_LIMIT_CONFIG } from '../rate-limit.constants.js';
import { ADMIN_OPENAPI, ADMIN_SETTINGS, RATE_LIMIT_ADMIN_OPTIONS } from './admin.constants.js';
import { createAdminController } from './admin.controller.js';
import { applyOpenApi, loadSwagger } from './admin-openapi.js';
import type { RateLimitAdminOptions } from './admin-options.interface.js';
import { AdminService } from './admin.service.js';
import { AdminStatsService } from './admin-stats.service.js';
import { AdminConfigService } from './admin-config.service.js';
import { adminKeyDigests, checkAdminExtras, resolveAdminSettings, type AdminSettings } from './admin-settings.js';
import type { RateLimitAdminModuleOptions } from './admin-options.interface.js';

/**
 * The controller and providers of RateLimitAdminModule (and so of RateLimitModule's `admin` extra).
 *
 * @throws RateLimitConfigurationError for a bad `admin.path`, `guard`, `authorize` or `routeDecorators`,
 *   at once; the lack of credentials (or both kinds) is reported when the module starts (the API key
 *   may come from the async factory).
 */
export function adminModuleParts(admin: RateLimitAdminOptions): { controllers: Type<unknown>[]; providers: Provider[] } {
  const extras = checkAdminExtras(admin);
  const controller = createAdminController(extras.path);
  if (extras.routeDecorators) decorateHandlers(controller, extras.routeDecorators);
  return {
    controllers: [controller],
    providers: [
      {
        provide: ADMIN_SETTINGS,
        inject: [RATE_LIMIT_CONFIG, RATE_LIMIT_ADMIN_OPTIONS],
        useFactory: (config: RateLimitConfig, options: RateLimitAdminModuleOptions | undefined) =>
          resolveAdminSettings(extras, [...(config.adminApiKeyDigests ?? []), ...adminKeyDigests(options?.apiKey)]),
      },
      {
        // Decorates the controller and DTOs for OpenAPI while the app is being built, before a
        // SwaggerModule.createDocument call can read them; nothing when @nestjs/swagger is absent.
        provide: ADMIN_OPENAPI,
        inject: [ADMIN_SETTINGS],
        useFactory: async (settings: AdminSettings) => {
          const swagger = await loadSwagger();
          if (swagger) applyOpenApi(swagger, controller, { bearer: settings.keyDigests.length > 0 });
          return swagger !== null;
        },
      },
      AdminService,
      AdminStatsService,
      AdminConfigService,
    ],
  };
}

/**
 * Applies the app's decorators (`admin.routeDecorators`, e.g. `Roles(['admin'])`) to every handler
 * of this module's own controller class, where a guard reading `context.getHandler()` finds them.
 */
function decorateHandlers(controller: Type<unknown>, decorators: readonly MethodDecorator[]): void {
  const prototype = controller.prototype as object;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    let descriptor = Object.getOwnPropertyDescriptor(prototype, name);
    if (name === 'constructor' || typeof descriptor?.value !== 'function') continue;
    for (const decorate of decorators) descriptor = (decorate(prototype, name, descriptor!) as PropertyDescriptor | undefined) ?? descriptor;
    Object.defineProperty(prototype, name, descriptor!);
  }
}
