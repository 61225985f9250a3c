import { Controller, Get, type ExecutionContext, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { ThrottlerLib } from '../support/libs.js';

const header = (context: ExecutionContext, name: string): string | undefined =>
  context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[name];

/** The object form: skipIf, ignoreUserAgents, a tracker from an API key, a custom message. */
export function commonOptionsApp({ ThrottlerModule, ThrottlerGuard, Throttle }: ThrottlerLib): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
    @Throttle({ default: { getTracker: (req) => req.headers['x-user'] ?? 'anonymous' } })
    @Get('per-user')
    perUser() {
      return 'per-user';
    }
    @Throttle({ default: { generateKey: (_context, tracker, name) => `shared-${name}-${tracker}` } })
    @Get('shared-a')
    sharedA() {
      return 'a';
    }
    @Throttle({ default: { generateKey: (_context, tracker, name) => `shared-${name}-${tracker}` } })
    @Get('shared-b')
    sharedB() {
      return 'b';
    }
  }
  return {
    imports: [
      ThrottlerModule.forRoot({
        throttlers: [{ ttl: 60_000, limit: 2 }],
        errorMessage: 'Slow down, please.',
        skipIf: (context) => header(context, 'x-internal') === 'yes',
        ignoreUserAgents: [/googlebot/i],
        getTracker: (req) => req.headers['x-api-key'] ?? req.ip,
      }),
    ],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}

/** `errorMessage` as a function of the context and the limit detail. */
export function errorFunctionApp({ ThrottlerModule, ThrottlerGuard }: ThrottlerLib): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
  }
  return {
    imports: [
      ThrottlerModule.forRoot({
        throttlers: [{ ttl: 60_000, limit: 2 }],
        errorMessage: (context, detail) => JSON.stringify({ route: `${context.getClass().name}.${context.getHandler().name}`, ...detail }),
      }),
    ],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}

/** `setHeaders: false` for all throttlers but one that turns them back on. */
export function headersApp({ ThrottlerModule, ThrottlerGuard }: ThrottlerLib): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
  }
  return {
    imports: [
      ThrottlerModule.forRoot({
        setHeaders: false,
        throttlers: [
          { name: 'quiet', ttl: 1_000, limit: 2 },
          { name: 'loud', ttl: 60_000, limit: 3, setHeaders: true },
        ],
      }),
    ],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}

/** blockDuration longer than ttl, shorter than ttl, and 0 (no block). */
export function blockApp({ ThrottlerModule, ThrottlerGuard, Throttle }: ThrottlerLib): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
    @Throttle({ default: { blockDuration: 2_000 } }) @Get('short-block') shortBlock() {
      return 'short-block';
    }
    @Throttle({ default: { blockDuration: 0 } }) @Get('no-block') noBlock() {
      return 'no-block';
    }
  }
  return {
    imports: [ThrottlerModule.forRoot([{ ttl: 10_000, limit: 2, blockDuration: 30_000 }])],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}

/** limit and ttl as functions of the context, sync and async, and as numeric strings. */
export function resolvableApp({ ThrottlerModule, ThrottlerGuard, Throttle }: ThrottlerLib): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
    @Throttle({ default: { limit: async () => 1 } }) @Get('async') asyncLimit() {
      return 'async';
    }
    @Throttle({ default: { limit: '4' as unknown as number } }) @Get('string') stringLimit() {
      return 'string';
    }
    @Throttle({ default: { limit: 'many' as unknown as number } }) @Get('invalid') invalid() {
      return 'invalid';
    }
  }
  return {
    imports: [
      ThrottlerModule.forRoot([
        {
          limit: (context) => (header(context, 'x-plan') === 'pro' ? 5 : 2),
          ttl: async (context) => (header(context, 'x-plan') === 'pro' ? 10_000 : 30_000),
        },
      ]),
    ],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}

/** A throttler whose ttl is a function beside one whose ttl is a number: the check order. */
export function mixedTtlApp({ ThrottlerModule, ThrottlerGuard }: ThrottlerLib): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
  }
  return {
    imports: [
      ThrottlerModule.forRoot([
        { name: 'computed', ttl: () => 1_000, limit: 1 },
        { name: 'fixed', ttl: 5_000, limit: 1 },
        { name: 'wide', ttl: 60_000, limit: 1 },
      ]),
    ],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}

/** The default tracker (the request IP, behind a trusted proxy) with IPv6 networks of 56 bits. */
export function ipv6App({ ThrottlerModule, ThrottlerGuard }: ThrottlerLib, ipv6SubnetPrefix?: number): ModuleMetadata {
  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
  }
  const throttlers = [{ ttl: 60_000, limit: 1 }];
  return {
    imports: [ThrottlerModule.forRoot(ipv6SubnetPrefix === undefined ? throttlers : { throttlers, ipv6SubnetPrefix })],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}
