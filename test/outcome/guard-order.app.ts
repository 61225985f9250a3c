/**
 * An app whose auth guard runs before Rampart's and sets `request.user`, with a module keyResolver
 * that reads it (per-user limits), and one login route whose rule counts failures only.
 */
import {
  Controller,
  Get,
  Injectable,
  Post,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type ModuleMetadata,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimitGuard, RateLimitModule, SkipThrottle, Throttle } from '../../lib/index.js';
import type { FakeClock } from '../support/fake-clock.js';

type Request = { headers: Record<string, string | undefined>; user?: { id: string } };

/** Sets `request.user` from `X-User`; refuses `X-Password: wrong` with 401. */
@Injectable()
export class UserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const id = request.headers['x-user'];
    if (id !== undefined) request.user = { id };
    if (request.headers['x-password'] === 'wrong') throw new UnauthorizedException('Wrong password.');
    return true;
  }
}

const loginFailures = { name: 'login-failures', limit: 2, windowMs: 60_000, countIf: 'failed' as const };

@Controller()
export class AccountController {
  @Get('me') me() {
    return 'me';
  }

  @Throttle(loginFailures)
  @Post('login')
  login() {
    return 'welcome';
  }
}

/** The same routes, the auth guard first in the controller's `@UseGuards`. */
@UseGuards(UserGuard, RateLimitGuard)
@Controller()
export class GuardedAccountController extends AccountController {}

/** Where the auth guard runs before Rampart's: a global guard of the app registered first, or first in the controller's `@UseGuards`. */
export type GuardPlacement = 'app-guard-first' | 'class-use-guards';
export const GUARD_PLACEMENTS: GuardPlacement[] = ['app-guard-first', 'class-use-guards'];

/** The app of one placement of the auth guard: its module metadata, and what to do before `init`. */
export function guardOrderApp(placement: GuardPlacement, clock: FakeClock): ModuleMetadata {
  const rampart = RateLimitModule.forRoot({
    clock,
    registerGlobalGuard: placement !== 'class-use-guards',
    rules: [{ name: 'per-user', limit: 5, windowMs: 60_000 }],
    keyResolver: (context: ExecutionContext) => context.switchToHttp().getRequest<Request>().user?.id,
  });
  switch (placement) {
    case 'app-guard-first':
      // The app module's own APP_GUARD is registered before the one of Rampart's module.
      return { providers: [{ provide: APP_GUARD, useClass: UserGuard }], imports: [rampart], controllers: [AccountController] };
    case 'class-use-guards':
      return { providers: [UserGuard], imports: [rampart], controllers: [GuardedAccountController] };
  }
}

/** Routes under a module rule that counts failures: one of them skips it. */
@Controller()
export class ModuleWideController {
  @SkipThrottle('login-failures') @Get('me') me() {
    return 'me';
  }

  @Post('login') login() {
    return 'welcome';
  }
}

/** The auth guard registered first, and the failure rule a module rule (every route counts outcomes, but `/me` skips it). */
export function moduleWideApp(clock: FakeClock): ModuleMetadata {
  const rampart = RateLimitModule.forRoot({
    clock,
    rules: [{ name: 'per-user', limit: 5, windowMs: 60_000 }, loginFailures],
    keyResolver: (context: ExecutionContext) => context.switchToHttp().getRequest<Request>().user?.id,
  });
  return { providers: [{ provide: APP_GUARD, useClass: UserGuard }], imports: [rampart], controllers: [ModuleWideController] };
}
