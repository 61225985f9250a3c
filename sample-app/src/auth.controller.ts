import { Controller, Post } from '@nestjs/common';
import { Throttle } from 'nest-rampart';
import { settings } from './config.js';

/**
 * A stand-in for real authentication: it accepts anyone. The `login` rule is added beside the
 * module's default rule, so a client gets `loginLimit` attempts per fixed window; the window is
 * aligned to the clock, so the 429's `Retry-After` says exactly when the next attempt is allowed.
 */
@Controller('auth')
export class AuthController {
  @Throttle({ name: 'login', limit: settings.loginLimit, windowMs: settings.loginWindowMs, algorithm: 'fixed-window' })
  @Post('login')
  login() {
    return { token: 'sample-token' };
  }
}
