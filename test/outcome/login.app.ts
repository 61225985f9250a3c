/**
 * A login route whose credentials a real guard checks (the password compared with the stored one),
 * under a rule that counts failed logins only. The guard can hold every check it reaches until the
 * test lets them go, so that a burst of attempts is really in flight at once.
 */
import {
  Body,
  Controller,
  Injectable,
  Post,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type ModuleMetadata,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimitGuard, RateLimitModule, Throttle, type RateLimitModuleOptions } from '../../lib/index.js';

export const PASSWORD = 'correct horse battery staple';

/** Counts the credential checks reached, and holds them while `held` is set. */
export class Checks {
  reached = 0;
  private release: (() => void) | undefined;
  private gate: Promise<void> | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }

  letGo(): void {
    this.release?.();
    this.gate = undefined;
  }

  async pass(): Promise<void> {
    this.reached++;
    await this.gate;
  }
}

/** The app's auth guard: refuses a wrong password with 401. */
@Injectable()
export class PasswordGuard implements CanActivate {
  constructor(private readonly checks: Checks) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { body } = context.switchToHttp().getRequest<{ body?: { password?: unknown } }>();
    await this.checks.pass();
    if (body?.password !== PASSWORD) throw new UnauthorizedException('Wrong user name or password.');
    return true;
  }
}

/** Waits this long for units that requests in flight hold (`POST /login-waiting`). */
export const WAIT_MS = 10_000;

@Controller()
export class LoginController {
  @Post('login') login(@Body() body: { username?: string }) {
    return { welcome: body.username ?? null };
  }

  /** The module's `login-failures` rule, waiting for units that requests in flight hold. */
  @Throttle({ name: 'login-failures', waitMs: WAIT_MS })
  @Post('login-waiting')
  loginWaiting(@Body() body: { username?: string }) {
    return { welcome: body.username ?? null };
  }
}

@Controller()
export class MethodGuardedController {
  @UseGuards(PasswordGuard, RateLimitGuard)
  @Post('login')
  login(@Body() body: { username?: string }) {
    return { welcome: body.username ?? null };
  }
}

@UseGuards(PasswordGuard, RateLimitGuard)
@Controller()
export class ClassGuardedController {
  @Post('login') login(@Body() body: { username?: string }) {
    return { welcome: body.username ?? null };
  }
}

@Controller()
export class AuthOnMethodController {
  @UseGuards(PasswordGuard)
  @Post('login')
  login(@Body() body: { username?: string }) {
    return { welcome: body.username ?? null };
  }
}

/** Where the app's auth guard is, relative to Rampart's. */
export type Placement = 'app-guard-first' | 'use-global-guards' | 'method-use-guards' | 'class-use-guards' | 'auth-on-method';
export const PLACEMENTS: Placement[] = ['app-guard-first', 'use-global-guards', 'method-use-guards', 'class-use-guards', 'auth-on-method'];

/** The app of one placement: its module metadata, and what to do before `init` (a global guard of the app's own). */
export function loginApp(
  placement: Placement,
  checks: Checks,
  options: RateLimitModuleOptions,
): { metadata: ModuleMetadata; prepare?: (app: { useGlobalGuards(...g: CanActivate[]): unknown }) => void } {
  const checksProvider = { provide: Checks, useValue: checks };
  const registerGlobalGuard = placement !== 'method-use-guards' && placement !== 'class-use-guards';
  const rampart = RateLimitModule.forRoot({ ...options, registerGlobalGuard });
  switch (placement) {
    case 'app-guard-first':
      // The app module's own APP_GUARD is registered before the one of Rampart's module.
      return { metadata: { providers: [checksProvider, { provide: APP_GUARD, useClass: PasswordGuard }], imports: [rampart], controllers: [LoginController] } };
    case 'use-global-guards':
      return {
        metadata: { providers: [checksProvider], imports: [rampart], controllers: [LoginController] },
        prepare: (app) => app.useGlobalGuards(new PasswordGuard(checks)),
      };
    case 'method-use-guards':
      return { metadata: { providers: [checksProvider, PasswordGuard], imports: [rampart], controllers: [MethodGuardedController] } };
    case 'class-use-guards':
      return { metadata: { providers: [checksProvider, PasswordGuard], imports: [rampart], controllers: [ClassGuardedController] } };
    case 'auth-on-method':
      return { metadata: { providers: [checksProvider, PasswordGuard], imports: [rampart], controllers: [AuthOnMethodController] } };
  }
}
