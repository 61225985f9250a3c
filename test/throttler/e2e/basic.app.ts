import { Controller, Get, Post, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { ThrottlerLib } from '../support/libs.js';

/**
 * The app most users have: one default throttler of 3 requests a minute, applied to every route
 * by `APP_GUARD`, with route and controller overrides and skips.
 */
export function basicApp({ ThrottlerModule, ThrottlerGuard, Throttle, SkipThrottle }: ThrottlerLib): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return { hello: 'world' };
    }
    @Get('other') other() {
      return 'other';
    }
    @Post('items') create() {
      return { created: true };
    }
    @SkipThrottle() @Get('health') health() {
      return { status: 'ok' };
    }
    @Throttle({ default: { limit: 1, ttl: 10_000 } }) @Get('strict') strict() {
      return 'strict';
    }
    @Throttle({ default: { limit: 5 } }) @Get('roomy') roomy() {
      return 'roomy';
    }
  }

  @Throttle({ default: { limit: 2 } })
  @Controller('limited')
  class LimitedController {
    @Get() inherit() {
      return 'inherit';
    }
    @Throttle({ default: { limit: 4 } }) @Get('handler') handler() {
      return 'handler';
    }
  }

  @SkipThrottle()
  @Controller('open')
  class OpenController {
    @Get() open() {
      return 'open';
    }
    @SkipThrottle({ default: false }) @Get('counted') counted() {
      return 'counted';
    }
  }

  return {
    imports: [ThrottlerModule.forRoot([{ ttl: 60_000, limit: 3 }])],
    controllers: [AppController, LimitedController, OpenController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}
