import type { FactoryProvider, Provider } from '@nestjs/common';
import type { ThrottlerModuleOptions } from './throttler-module-options.interface.js';
import { ThrottlerStorage } from './throttler-storage.interface.js';
import { ThrottlerStorageService } from './throttler-storage.service.js';
import { THROTTLER_OPTIONS } from './throttler.constants.js';

/** The provider of the module options given to `forRoot`. */
export function createThrottlerProviders(options: ThrottlerModuleOptions): Provider[] {
  return [{ provide: THROTTLER_OPTIONS, useValue: options }];
}

/** The storage: the one in the options (object form), otherwise a new in-memory storage. */
export const ThrottlerStorageProvider: FactoryProvider<ThrottlerStorage> = {
  provide: ThrottlerStorage,
  useFactory: (options: ThrottlerModuleOptions): ThrottlerStorage => (!Array.isArray(options) && options.storage) || new ThrottlerStorageService(),
  inject: [THROTTLER_OPTIONS],
};

/** The injection token of the module options. */
export const getOptionsToken = (): string => THROTTLER_OPTIONS;

/** The injection token of the storage. */
export const getStorageToken = (): typeof ThrottlerStorage => ThrottlerStorage;
