import { Controller, Get, HttpException, Injectable, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimitGuard, RateLimitModule, type ClientBanReason, type ClientBlock, type RateLimitViolation, type TargetRule } from '../../../lib/index.js';
import { FakeClock } from '../../support/fake-clock.js';

@Controller()
export class HooksController {
  @Get('items') items() {
    return 'ok';
  }
}

interface Req {
  headers: Record<string, string | undefined>;
}

/** Every documented hook overridden, each leaving a trace in the answer. */
@Injectable()
export class CustomGuard extends RateLimitGuard {
  /** The address from a test header instead of the socket. */
  protected override getClientAddress(request: unknown): string | null {
    return (request as Req).headers['x-test-address'] ?? null;
  }

  /** An async tracker: the tenant header, else the default (the address). */
  protected override async getTracker(context: ExecutionContext, request: unknown, address?: string | null): Promise<string> {
    const tenant = (request as Req).headers['x-tenant'];
    return tenant ? `tenant:${tenant}` : super.getTracker(context, request, address);
  }

  /** One pool per tracker across every rule and route. */
  protected override generateKey(_context: ExecutionContext, tracker: string, rule: TargetRule<ExecutionContext>): string {
    return `custom|${rule.rule.name}|${tracker}`;
  }

  protected override shouldSkip(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<Req>().headers['x-skip'] === 'yes';
  }

  protected override throwRateLimitException(_context: ExecutionContext, violation: RateLimitViolation): never {
    throw new HttpException({ custom: 'limited', rule: violation.rule, retryAfterSeconds: violation.retryAfterSeconds }, 420);
  }

  protected override throwClientBlockedException(_context: ExecutionContext, block: ClientBlock): never {
    throw new HttpException({ custom: 'blocked', untilMs: block.untilMs }, 421);
  }

  protected override throwClientBannedException(_context: ExecutionContext, reason: ClientBanReason): never {
    throw new HttpException({ custom: 'banned', reason }, 451);
  }
}

export const START = Date.UTC(2030, 0, 1);
export const ADMIN_KEY = 'hooks-admin-key-0123456789';

export const hooksModule = () => ({
  imports: [
    RateLimitModule.forRoot({
      clock: new FakeClock(START),
      rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }],
      escalation: { blockAfterViolations: 2, blockDurationMs: 600_000 },
      adminApiKey: ADMIN_KEY,
      registerGlobalGuard: false,
      admin: {},
    }),
  ],
  controllers: [HooksController],
  providers: [{ provide: APP_GUARD, useClass: CustomGuard }],
});
