/**
 * `nest-rampart/throttler`: a drop-in replacement for `@nestjs/throttler` v6. Change the import
 * path; the module, guard, decorators, options, storage contract, headers and responses stay the
 * same. It also serves apps that keep `@nestjs/throttler`: `rampartThrottlerStorage()` is a storage
 * for either, with counts shared exactly in MongoDB or Redis.
 */
export { DEFAULT_IPV6_SUBNET_PREFIX, normalizeIp } from './ip.js';
export type {
  Resolvable,
  ThrottlerAsyncOptions,
  ThrottlerGenerateKeyFunction,
  ThrottlerGetTrackerFunction,
  ThrottlerModuleOptions,
  ThrottlerOptions,
  ThrottlerOptionsFactory,
} from './throttler-module-options.interface.js';
export {
  rampartThrottlerStorage,
  RampartThrottlerStorage,
  type RampartThrottlerStorageOptions,
  type ThrottlerBacking,
  type ThrottlerBackingLifecycle,
} from './rampart-throttler-storage.js';
export { ThrottlerStorage } from './throttler-storage.interface.js';
export { InjectThrottlerOptions, InjectThrottlerStorage, SkipThrottle, Throttle } from './throttler.decorator.js';
export { ThrottlerException, throttlerMessage } from './throttler.exception.js';
export { ThrottlerGuard } from './throttler.guard.js';
export type { ThrottlerLimitDetail, ThrottlerRequest } from './throttler.guard.interface.js';
export { ThrottlerModule } from './throttler.module.js';
export { getOptionsToken, getStorageToken } from './throttler.providers.js';
export { DEFAULT_SWEEP_INTERVAL, ThrottlerStorageService } from './throttler-storage.service.js';
export { days, hours, minutes, seconds, weeks } from './utilities.js';
