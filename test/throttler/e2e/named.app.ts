import { Controller, Get, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { ThrottlerLib } from '../support/libs.js';

/**
 * Named throttlers, declared out of order (they are checked by ascending ttl): 3 per second,
 * 20 per 10 seconds, 100 per minute.
 */
export function namedApp({ ThrottlerModule, ThrottlerGuard, Throttle, SkipThrottle, seconds, minutes }: ThrottlerLib): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
    @SkipThrottle({ short: true }) @Get('no-short') noShort() {
      return 'no-short';
    }
    @SkipThrottle({ short: true, medium: true, long: true }) @Get('none') none() {
      return 'none';
    }
    /** There is no 'default' throttler here, so this skips nothing. */
    @SkipThrottle() @Get('skip-default') skipDefault() {
      return 'skip-default';
    }
    @Throttle({ long: { limit: 2 } }) @Get('few') few() {
      return 'few';
    }
    @Throttle({ short: { limit: 1, ttl: seconds(5) }, medium: { limit: 1 } }) @Get('both') both() {
      return 'both';
    }
  }

  return {
    imports: [
      ThrottlerModule.forRoot([
        { name: 'long', ttl: minutes(1), limit: 100 },
        { name: 'short', ttl: seconds(1), limit: 3 },
        { name: 'medium', ttl: seconds(10), limit: 20 },
      ]),
    ],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}

/** A 'default' throttler beside a named one: only the named one's headers carry a suffix. */
export function defaultAndNamedApp({ ThrottlerModule, ThrottlerGuard, SkipThrottle }: ThrottlerLib): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
    @SkipThrottle() @Get('named-only') namedOnly() {
      return 'named-only';
    }
  }
  return {
    imports: [
      ThrottlerModule.forRoot([
        { ttl: 60_000, limit: 2 },
        { name: 'burst', ttl: 2_000, limit: 5 },
      ]),
    ],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}
