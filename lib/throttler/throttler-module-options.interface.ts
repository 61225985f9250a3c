import type { ExecutionContext, ModuleMetadata, Type } from '@nestjs/common';
import type { ThrottlerStorage, ThrottlerStorageRecord } from './throttler-storage.interface.js';

/** What is known about a refused request, for `errorMessage` and `throwThrottlingException`. */
export interface ThrottlerLimitDetail extends ThrottlerStorageRecord {
  ttl: number;
  limit: number;
  key: string;
  tracker: string;
}

/** A value, or a function of the execution context that returns it (possibly asynchronously). */
export type Resolvable<T extends number | string | boolean> = T | ((context: ExecutionContext) => T | Promise<T>);

/** One named throttler: at most `limit` requests per `ttl` milliseconds for each tracker. */
export interface ThrottlerOptions {
  /** Identifies the throttler in `@Throttle`, `@SkipThrottle`, keys and header suffixes. @default 'default' */
  name?: string;
  /** Requests allowed per `ttl`. */
  limit: Resolvable<number>;
  /** Length of the counting period, in milliseconds. */
  ttl: Resolvable<number>;
  /** Milliseconds a tracker stays blocked once it exceeds `limit`. Defaults to `ttl`; 0 disables blocking. */
  blockDuration?: Resolvable<number>;
  /** Requests whose User-Agent matches one of these are never counted by this throttler. */
  ignoreUserAgents?: RegExp[];
  /** Return true to let a request through this throttler without counting it. */
  skipIf?: (context: ExecutionContext) => boolean;
  /** Identifies the client; defaults to the guard's `getTracker` (the request IP). */
  getTracker?: ThrottlerGetTrackerFunction;
  /** Builds the storage key; defaults to the guard's `generateKey`. */
  generateKey?: ThrottlerGenerateKeyFunction;
  /** Whether to send the `X-RateLimit-*` and `Retry-After` headers. @default true */
  setHeaders?: boolean;
}

/**
 * The module options: either the list of throttlers, or an object holding them with options
 * shared by all of them.
 */
export type ThrottlerModuleOptions =
  | Array<ThrottlerOptions>
  | {
      /** Default for each throttler's `ignoreUserAgents`. */
      ignoreUserAgents?: RegExp[];
      /** Default for each throttler's `skipIf`. */
      skipIf?: (context: ExecutionContext) => boolean;
      /** Default for each throttler's `getTracker`. */
      getTracker?: ThrottlerGetTrackerFunction;
      /** Default for each throttler's `generateKey`. */
      generateKey?: ThrottlerGenerateKeyFunction;
      /** The message of the 429 response, or a function computing it. */
      errorMessage?: string | ((context: ExecutionContext, throttlerLimitDetail: ThrottlerLimitDetail) => string);
      /** Where counts are kept; defaults to an in-memory `ThrottlerStorageService`. */
      storage?: ThrottlerStorage;
      /** Bits of an IPv6 client address that identify a client. @default 64 */
      ipv6SubnetPrefix?: number;
      throttlers: Array<ThrottlerOptions>;
      /** Default for each throttler's `setHeaders`. */
      setHeaders?: boolean;
    };

/** A class that builds the module options, for `ThrottlerModule.forRootAsync({ useClass })`. */
export interface ThrottlerOptionsFactory {
  createThrottlerOptions(): Promise<ThrottlerModuleOptions> | ThrottlerModuleOptions;
}

/** Options of `ThrottlerModule.forRootAsync`: one of `useFactory`, `useClass` or `useExisting`. */
export interface ThrottlerAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useExisting?: Type<ThrottlerOptionsFactory>;
  useClass?: Type<ThrottlerOptionsFactory>;
  useFactory?: (...args: any[]) => Promise<ThrottlerModuleOptions> | ThrottlerModuleOptions;
  /** Providers passed to `useFactory`. */
  inject?: any[];
}

/** Returns the string that identifies the client of a request. */
export type ThrottlerGetTrackerFunction = (req: Record<string, any>, context: ExecutionContext) => Promise<string> | string;

/** Returns the storage key of a tracker under one throttler. */
export type ThrottlerGenerateKeyFunction = (context: ExecutionContext, trackerString: string, throttlerName: string) => string;
