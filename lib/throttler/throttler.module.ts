import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { ThrottlerAsyncOptions, ThrottlerModuleOptions, ThrottlerOptionsFactory } from './throttler-module-options.interface.js';
import { THROTTLER_OPTIONS } from './throttler.constants.js';
import { createThrottlerProviders, ThrottlerStorageProvider } from './throttler.providers.js';

/**
 * Registers the throttler options and storage, globally. Add `ThrottlerGuard` as an `APP_GUARD`
 * (or with `@UseGuards`) to apply them.
 * @example ThrottlerModule.forRoot([{ ttl: 60000, limit: 10 }])
 */
@Global()
@Module({})
export class ThrottlerModule {
  static forRoot(options: ThrottlerModuleOptions = []): DynamicModule {
    const providers: Provider[] = [...createThrottlerProviders(options), ThrottlerStorageProvider];
    return { module: ThrottlerModule, providers, exports: providers };
  }

  static forRootAsync(options: ThrottlerAsyncOptions): DynamicModule {
    const providers: Provider[] = [...this.createAsyncProviders(options), ThrottlerStorageProvider];
    return { module: ThrottlerModule, imports: options.imports || [], providers, exports: providers };
  }

  private static createAsyncProviders(options: ThrottlerAsyncOptions): Provider[] {
    const optionsProvider = this.createAsyncOptionsProvider(options);
    if (options.useExisting || options.useFactory || !options.useClass) return [optionsProvider];
    return [optionsProvider, { provide: options.useClass, useClass: options.useClass }];
  }

  private static createAsyncOptionsProvider(options: ThrottlerAsyncOptions): Provider {
    if (options.useFactory) {
      return { provide: THROTTLER_OPTIONS, useFactory: options.useFactory, inject: options.inject || [] };
    }
    return {
      provide: THROTTLER_OPTIONS,
      useFactory: async (factory: ThrottlerOptionsFactory) => factory.createThrottlerOptions(),
      inject: [(options.useExisting || options.useClass)!],
    };
  }
}
