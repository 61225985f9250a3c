import { Inject } from '@nestjs/common';
import type { Resolvable, ThrottlerGenerateKeyFunction, ThrottlerGetTrackerFunction } from './throttler-module-options.interface.js';
import {
  DEFAULT_THROTTLER_NAME,
  THROTTLER_BLOCK_DURATION,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from './throttler.constants.js';
import { getOptionsToken, getStorageToken } from './throttler.providers.js';

/** What a route or controller may override of a named throttler. */
interface ThrottlerMethodOrControllerOptions {
  limit?: Resolvable<number>;
  ttl?: Resolvable<number>;
  blockDuration?: Resolvable<number>;
  getTracker?: ThrottlerGetTrackerFunction;
  generateKey?: ThrottlerGenerateKeyFunction;
}

type ClassOrMethodDecorator = MethodDecorator & ClassDecorator;

/** The function a class or method decorator attaches metadata to: the class, or the method. */
function metadataTarget(target: object, descriptor?: PropertyDescriptor): object {
  return (descriptor?.value as object | undefined) ?? target;
}

/**
 * Overrides named throttlers for a controller or a route, field by field; a route's value wins
 * over its controller's, which wins over the module's.
 * @example @Throttle({ default: { limit: 3, ttl: 60000 } })
 */
export const Throttle = (options: Record<string, ThrottlerMethodOrControllerOptions>): ClassOrMethodDecorator =>
  ((target: object, _propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = metadataTarget(target, descriptor);
    for (const name in options) {
      const override = options[name]!;
      Reflect.defineMetadata(THROTTLER_TTL + name, override.ttl, holder);
      Reflect.defineMetadata(THROTTLER_LIMIT + name, override.limit, holder);
      Reflect.defineMetadata(THROTTLER_BLOCK_DURATION + name, override.blockDuration, holder);
      Reflect.defineMetadata(THROTTLER_TRACKER + name, override.getTracker, holder);
      Reflect.defineMetadata(THROTTLER_KEY_GENERATOR + name, override.generateKey, holder);
    }
    return descriptor ?? target;
  }) as ClassOrMethodDecorator;

/**
 * Lets a controller or route through the named throttlers without counting (`true`), or counts it
 * again under a controller that skips (`false`).
 * @example @SkipThrottle() // the 'default' throttler
 * @example @SkipThrottle({ short: true })
 */
export const SkipThrottle = (skip: Record<string, boolean> = { [DEFAULT_THROTTLER_NAME]: true }): ClassOrMethodDecorator =>
  ((target: object, _propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = metadataTarget(target, descriptor);
    for (const name in skip) {
      Reflect.defineMetadata(THROTTLER_SKIP + name, skip[name], holder);
    }
    return descriptor ?? target;
  }) as ClassOrMethodDecorator;

/** Injects the module options. */
export const InjectThrottlerOptions = (): PropertyDecorator & ParameterDecorator => Inject(getOptionsToken());

/** Injects the storage. */
export const InjectThrottlerStorage = (): PropertyDecorator & ParameterDecorator => Inject(getStorageToken());
