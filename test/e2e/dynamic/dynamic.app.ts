import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { RateLimitModule, Throttle, type RateLimitModuleOptions } from '../../../lib/index.js';
import type { FakeClock } from '../../support/fake-clock.js';

/** The plans the app's customers are on, as its database would hold them, by API key. */
export const PLANS: Readonly<Record<string, { readonly perMinute: number; readonly windowMs?: number } | { readonly broken: unknown }>> = {
  'key-free': { perMinute: 2 },
  'key-pro': { perMinute: 5, windowMs: 10_000 },
  // Bad data: a plan whose limit is missing reads as NaN.
  'key-broken': { broken: true },
};

export const apiKey = (ctx: ExecutionContext): string =>
  String(ctx.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers['x-api-key'] ?? '');

/** The plan database: every lookup is recorded, and answers a tick later (a real query would). */
export class PlanDb {
  readonly lookups: string[] = [];
  async limitsOf(key: string): Promise<{ limit: number; windowMs?: number }> {
    this.lookups.push(key);
    await new Promise((resolve) => setImmediate(resolve));
    const plan = PLANS[key] as { perMinute?: number; windowMs?: number } | undefined;
    return { limit: Number(plan?.perMinute ?? 'none'), ...(plan?.windowMs !== undefined ? { windowMs: plan.windowMs } : {}) };
  }
}

@Controller()
export class PlanController {
  /** The module rule: the plan's limit and window, one lookup per request (or per cache TTL). */
  @Get('data') data() {
    return { ok: true };
  }

  /** `@Throttle` with a per-field function over the module rule. */
  @Throttle({ name: 'plan', limit: (ctx: ExecutionContext) => (apiKey(ctx) === 'key-pro' ? 4 : 1), fallback: { limit: 1 }, limits: undefined })
  @Get('per-field')
  perField() {
    return { ok: true };
  }

  /** `@Throttle` with a number over the module rule's `limits`: the limit is pinned, the plan still gives the window. */
  @Throttle({ name: 'plan', limit: 3 })
  @Get('pinned')
  pinned() {
    return { ok: true };
  }

  /** Counted by a route entry in code (see `dynamicModule`). */
  @Get('routed') routed() {
    return { ok: true };
  }
}

/** The module with a plan-based rule (its cache when `ttlMs` is given), on `storage` (memory when absent). */
export function dynamicModule(clock: FakeClock, db: PlanDb, extra: Partial<RateLimitModuleOptions> & { ttlMs?: number } = {}) {
  const { ttlMs, ...options } = extra;
  return {
    imports: [
      RateLimitModule.forRoot({
        clock,
        escalation: false,
        logging: false,
        logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
        keyResolver: (ctx) => apiKey(ctx) || undefined,
        rules: [
          {
            name: 'plan',
            algorithm: 'fixed-window',
            limit: 1,
            windowMs: 60_000,
            limits: (ctx) => db.limitsOf(apiKey(ctx)),
            ...(ttlMs !== undefined ? { limitsCache: { ttlMs } } : {}),
          },
        ],
        routes: [
          {
            path: '^/routed',
            rules: [{ name: 'plan', limits: undefined, windowMs: (ctx) => (apiKey(ctx) === 'key-pro' ? 1_000 : 60_000), fallback: { windowMs: 60_000 } }],
          },
        ],
        ...options,
      }),
    ],
    controllers: [PlanController],
  };
}
