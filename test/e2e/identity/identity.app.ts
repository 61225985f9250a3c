import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { RateLimitModule, SkipThrottle, Throttle, type RateLimitModuleOptions } from '../../../lib/index.js';

function header(context: ExecutionContext, name: string): string | undefined {
  const value = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[name];
  return value || undefined;
}

@Controller()
export class IdentityController {
  @SkipThrottle() @Get('open') open() {
    return { open: true };
  }

  @Get('ip') ip() {
    return 'ip';
  }

  /** Counted per API key when one is sent (rule-level resolver), by address otherwise. */
  @Throttle({ name: 'per-key', limit: 2, windowMs: 60_000, keyResolver: (ctx) => header(ctx, 'x-api-key') })
  @SkipThrottle('default')
  @Get('keyed')
  keyed() {
    return 'keyed';
  }

  /** Two routes sharing one pool (the per-route default rule is skipped to show the pool alone). */
  @SkipThrottle('default')
  @Throttle({ name: 'reports', limit: 3, windowMs: 60_000, scope: 'reports' })
  @Get('reports/a')
  reportA() {
    return 'a';
  }
  @SkipThrottle('default')
  @Throttle({ name: 'reports', limit: 3, windowMs: 60_000, scope: 'reports' })
  @Get('reports/b')
  reportB() {
    return 'b';
  }

  /** Each request costs 2 units. */
  @SkipThrottle('default')
  @Throttle({ name: 'heavy', limit: 4, windowMs: 60_000, cost: 2 })
  @Get('heavy')
  heavy() {
    return 'heavy';
  }

  /** The cost comes from the request, as an app computing it from a batch size would. */
  @SkipThrottle('default')
  @Throttle({ name: 'batch', limit: 4, windowMs: 60_000, algorithm: 'fixed-window', cost: (ctx) => Number(header(ctx, 'x-batch') ?? 1) })
  @Get('batch')
  batch() {
    return 'batch';
  }
}

/**
 * These scenarios are about who is counted, not about repeat offenders: escalation is off so that a
 * denied request is answered by its rule alone, however many a test sends.
 */
export const identityModule = (options: RateLimitModuleOptions) => ({
  imports: [RateLimitModule.forRoot({ rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }], escalation: false, ...options })],
  controllers: [IdentityController],
});

export const userHeader = (ctx: ExecutionContext) => header(ctx, 'x-user');

/**
 * Resolvers as apps write them over untyped request data: a numeric user id (`req.user.id`), and a
 * query parameter, which a repeated `?user=` turns into an array.
 */
export const numericUserId = (ctx: ExecutionContext) => {
  const id = header(ctx, 'x-user-id');
  return (id === undefined ? undefined : Number(id)) as unknown as string | undefined;
};
export const queryUser = (ctx: ExecutionContext) => ctx.switchToHttp().getRequest<{ query: Record<string, unknown> }>().query['user'] as string | undefined;
