import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { RateLimitModule, SkipThrottle, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';
import type { ViolationReport } from '../../lib/protection/escalator.js';

const header = (name: string) => (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[name] || undefined;

@Controller()
export class ProtectedController {
  @Get('data') data() {
    return { ok: true };
  }

  /** Counted per API key (a rule-level identity) when one is sent. */
  @SkipThrottle('default')
  @Throttle({ name: 'api', limit: 5, windowMs: 60_000, algorithm: 'fixed-window', keyResolver: header('x-api-key') })
  @Get('api')
  api() {
    return { api: true };
  }

  @SkipThrottle() @Get('health') health() {
    return { ok: true };
  }
}

/**
 * Two requests per minute; the socket peer (loopback) is a trusted proxy, so each test picks its
 * client address with X-Forwarded-For.
 */
export const protectionModule = (options: RateLimitModuleOptions = {}) => ({
  imports: [
    RateLimitModule.forRoot({
      rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }],
      trustProxy: { proxies: ['loopback'] },
      ...options,
    }),
  ],
  controllers: [ProtectedController],
});

export const userHeader = header('x-user');

/** A violation of the module's default rule on `/data`, as the engine reports it to the Escalator. */
export const violationReport = (key: string, nowMs: number, escalation: ViolationReport['escalation']): ViolationReport => ({
  key,
  address: null,
  rule: 'default',
  route: 'ProtectedController.data',
  method: 'GET',
  hits: 3,
  limit: 2,
  nowMs,
  escalation,
});
