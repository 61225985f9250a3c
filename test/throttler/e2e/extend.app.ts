import { Controller, Get, HttpException, HttpStatus, Inject, Injectable, Module, UseGuards, type ExecutionContext, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type {
  ThrottlerLimitDetail,
  ThrottlerModuleOptions,
  ThrottlerOptionsFactory,
  ThrottlerRequest,
  ThrottlerStorage,
} from '../../../lib/throttler/index.js';
import type { ThrottlerLib } from '../support/libs.js';

const header = (context: ExecutionContext, name: string): string | undefined =>
  context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[name];

/** The guard from the @nestjs/throttler documentation for apps behind a reverse proxy. */
export function proxyGuardApp({ ThrottlerModule, ThrottlerGuard }: ThrottlerLib): ModuleMetadata {
  @Injectable()
  class ThrottlerBehindProxyGuard extends ThrottlerGuard {
    protected override async getTracker(req: Record<string, any>): Promise<string> {
      return req.ips.length ? req.ips[0] : req.ip;
    }
  }

  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
  }
  return {
    imports: [ThrottlerModule.forRoot([{ ttl: 60_000, limit: 1 }])],
    controllers: [AppController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerBehindProxyGuard }],
  };
}

/** Guards that override the protected hooks, each applied to one controller with @UseGuards. */
export function extendedGuardsApp({ ThrottlerModule, ThrottlerGuard }: ThrottlerLib): ModuleMetadata {
  @Injectable()
  class CustomGuard extends ThrottlerGuard {
    protected override headerPrefix = 'X-Custom-Limit';
    protected override errorMessage = 'Custom default message';

    protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
      return header(context, 'x-skip') === '1';
    }

    /** One count per client for the whole controller. */
    protected override generateKey(_context: ExecutionContext, suffix: string, name: string): string {
      return `${name}:${suffix}`;
    }

    protected override async getErrorMessage(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<string> {
      return `${await super.getErrorMessage(context, detail)} (${detail.totalHits}/${detail.limit})`;
    }
  }

  @Injectable()
  class ProblemGuard extends ThrottlerGuard {
    protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
      throw new HttpException(
        { error: 'rate_limited', retryIn: detail.timeToBlockExpire, hits: detail.totalHits, tracker: detail.tracker },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }

  @Injectable()
  class PlanGuard extends ThrottlerGuard {
    protected override async handleRequest(requestProps: ThrottlerRequest): Promise<boolean> {
      const { context, limit } = requestProps;
      if (header(context, 'x-deny') === '1') return false;
      return super.handleRequest({ ...requestProps, limit: header(context, 'x-admin') === '1' ? limit * 10 : limit });
    }
  }

  @UseGuards(CustomGuard)
  @Controller('custom')
  class CustomController {
    @Get('a') a() {
      return 'a';
    }
    @Get('b') b() {
      return 'b';
    }
  }

  @UseGuards(ProblemGuard)
  @Controller('problem')
  class ProblemController {
    @Get() root() {
      return 'problem';
    }
  }

  @UseGuards(PlanGuard)
  @Controller('plan')
  class PlanController {
    @Get() root() {
      return 'plan';
    }
  }

  @Controller('unguarded')
  class UnguardedController {
    @Get() root() {
      return 'unguarded';
    }
  }

  return {
    imports: [ThrottlerModule.forRoot([{ ttl: 60_000, limit: 2 }])],
    controllers: [CustomController, ProblemController, PlanController, UnguardedController],
  };
}

/** A storage of the application's own, counting without expiry and recording every call. */
export class RecordingStorage implements ThrottlerStorage {
  readonly calls: Array<[string, number, number, number, string]> = [];
  shutdowns = 0;
  private readonly counts = new Map<string, number>();

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string) {
    this.calls.push([key, ttl, limit, blockDuration, throttlerName]);
    const totalHits = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, totalHits);
    const isBlocked = totalHits > limit;
    return { totalHits, timeToExpire: 42, isBlocked, timeToBlockExpire: isBlocked ? 7 : 0 };
  }

  onApplicationShutdown(): void {
    this.shutdowns++;
  }
}

/** A custom storage in the options, and the injection helpers that read options and storage. */
export function customStorageApp(
  { ThrottlerModule, ThrottlerGuard, InjectThrottlerOptions, InjectThrottlerStorage }: ThrottlerLib,
  storage: ThrottlerStorage,
): ModuleMetadata {
  @Injectable()
  class LimitsService {
    constructor(
      @InjectThrottlerOptions() readonly options: ThrottlerModuleOptions,
      @InjectThrottlerStorage() readonly storage: ThrottlerStorage,
    ) {}
  }

  @Controller()
  class AppController {
    constructor(@Inject(LimitsService) private readonly limits: LimitsService) {}
    @Get() root() {
      return 'root';
    }
    @Get('introspect') introspect() {
      const { options } = this.limits;
      return {
        customStorage: this.limits.storage === storage,
        throttlers: Array.isArray(options) ? options : options.throttlers,
      };
    }
  }

  return {
    imports: [ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 2 }], storage })],
    controllers: [AppController],
    providers: [LimitsService, { provide: APP_GUARD, useClass: ThrottlerGuard }],
  };
}

export type AsyncMode = 'useFactory' | 'async useFactory' | 'useClass' | 'useExisting';

/** forRootAsync in each of its forms, with options coming from another module's provider. */
export function asyncApp({ ThrottlerModule, ThrottlerGuard }: ThrottlerLib, mode: AsyncMode): ModuleMetadata {
  @Injectable()
  class LimitsConfig {
    readonly ttl = 30_000;
    readonly limit = 2;
  }

  @Injectable()
  class ThrottlerConfigService implements ThrottlerOptionsFactory {
    constructor(@Inject(LimitsConfig) private readonly config: LimitsConfig) {}
    createThrottlerOptions(): ThrottlerModuleOptions {
      return { throttlers: [{ ttl: this.config.ttl, limit: this.config.limit }], errorMessage: `options from ${mode}` };
    }
  }

  @Module({ providers: [LimitsConfig, ThrottlerConfigService], exports: [LimitsConfig, ThrottlerConfigService] })
  class ConfigModule {}

  @Module({ providers: [LimitsConfig], exports: [LimitsConfig] })
  class LimitsModule {}

  const throttler = {
    useFactory: () =>
      ThrottlerModule.forRootAsync({
        imports: [LimitsModule],
        inject: [LimitsConfig],
        useFactory: (config: LimitsConfig) => ({
          throttlers: [{ ttl: config.ttl, limit: config.limit }],
          errorMessage: `options from ${mode}`,
        }),
      }),
    'async useFactory': () =>
      ThrottlerModule.forRootAsync({
        imports: [LimitsModule],
        inject: [LimitsConfig],
        useFactory: async (config: LimitsConfig) => ({
          throttlers: [{ ttl: config.ttl, limit: config.limit }],
          errorMessage: `options from ${mode}`,
        }),
      }),
    useClass: () => ThrottlerModule.forRootAsync({ imports: [LimitsModule], useClass: ThrottlerConfigService }),
    useExisting: () => ThrottlerModule.forRootAsync({ imports: [ConfigModule], useExisting: ThrottlerConfigService }),
  }[mode]();

  @Controller()
  class AppController {
    @Get() root() {
      return 'root';
    }
  }
  return { imports: [throttler], controllers: [AppController], providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }] };
}
