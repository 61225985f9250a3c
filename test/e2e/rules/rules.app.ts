import { Controller, Get, Post } from '@nestjs/common';
import { RateLimitModule, SkipThrottle, Throttle } from '../../../lib/index.js';
import type { FakeClock } from '../../support/fake-clock.js';

@Controller()
export class DefaultController {
  @Get('a') a() {
    return { route: 'a' };
  }
  @Get('b') b() {
    return { route: 'b' };
  }
  @SkipThrottle() @Get('health') health() {
    return { ok: true };
  }
  @Throttle({ name: 'login', limit: 2, windowMs: 60_000, algorithm: 'fixed-window' })
  @Post('login')
  login() {
    return { token: 't' };
  }
  @Throttle({ limit: 1 }) @Get('strict') strict() {
    return { route: 'strict' };
  }
}

/** Controller-level override of the default rule, a handler that lifts it, one that skips one rule. */
@Throttle({ limit: 2 })
@Controller('ctl')
export class OverrideController {
  @Get('inherit') inherit() {
    return 'inherit';
  }
  @Throttle({ limit: 4 }) @Get('handler-wins') handlerWins() {
    return 'handler';
  }
}

@SkipThrottle()
@Controller('open')
export class OpenController {
  @Get() open() {
    return 'open';
  }
  @SkipThrottle(false) @Get('counted') counted() {
    return 'counted';
  }
}

/** Two module rules: a short burst rule and a longer sustained one. */
@Controller('multi')
export class MultiController {
  @Get() both() {
    return 'both';
  }
  @SkipThrottle('burst') @Get('sustained-only') sustainedOnly() {
    return 'sustained';
  }
}

// These scenarios are about counting and overriding rules, not about repeat offenders: escalation
// is off so that a denied request is answered by its rule alone, however many a test sends.
export function rulesModule(clock: FakeClock) {
  return {
    imports: [RateLimitModule.forRoot({ clock, rules: [{ limit: 3, windowMs: 10_000, algorithm: 'fixed-window' }], legacyHeaders: true, escalation: false })],
    controllers: [DefaultController, OverrideController, OpenController],
  };
}

export function multiModule(clock: FakeClock) {
  return {
    imports: [
      RateLimitModule.forRoot({
        clock,
        rules: [
          { name: 'burst', limit: 2, windowMs: 1_000, algorithm: 'fixed-window' },
          { name: 'sustained', limit: 5, windowMs: 60_000, algorithm: 'fixed-window' },
        ],
        escalation: false,
      }),
    ],
    controllers: [MultiController],
  };
}

/** A base controller whose handlers several controllers inherit (one function, several routes). */
abstract class CrudController {
  @Get() list() {
    return 'list';
  }
}

@SkipThrottle()
@Controller('internal')
export class InternalController extends CrudController {}

@Throttle({ limit: 1 })
@Controller('orders')
export class OrdersController extends CrudController {}

@Controller('users')
export class UsersController extends CrudController {}

/** Inherited handlers: each controller's own decorators and its own counters apply. */
export function inheritedModule(clock: FakeClock) {
  return {
    imports: [RateLimitModule.forRoot({ clock, rules: [{ limit: 2, windowMs: 10_000, algorithm: 'fixed-window' }], escalation: false })],
    controllers: [InternalController, OrdersController, UsersController],
  };
}

/** A controller class made by a factory: every one it makes is named `ItemsController`. */
function itemsController(path: string) {
  @Controller(path)
  class ItemsController {
    @Get() list() {
      return { path };
    }
  }
  return ItemsController;
}

/** Two controllers made by one factory: one class name, two paths. */
export function factoryModule(clock: FakeClock) {
  return {
    imports: [RateLimitModule.forRoot({ clock, rules: [{ limit: 2, windowMs: 10_000, algorithm: 'fixed-window' }], escalation: false })],
    controllers: [itemsController('books'), itemsController('films')],
  };
}

/** Two controllers with one class name at one path, told apart by host (Express routes by host). */
export function hostedModule(clock: FakeClock) {
  const hosted = (host: string) => {
    @Controller({ path: 'hosted', host })
    class ItemsController {
      @Get() list() {
        return { host };
      }
    }
    return ItemsController;
  };
  return {
    imports: [RateLimitModule.forRoot({ clock, rules: [{ limit: 2, windowMs: 10_000, algorithm: 'fixed-window' }], escalation: false })],
    controllers: [hosted('a.example'), hosted('b.example')],
  };
}
