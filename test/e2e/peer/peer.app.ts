import {
  Body,
  Catch,
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  UseGuards,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type MiddlewareConsumer,
  type NestMiddleware,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { RateLimitGuard, RateLimitModule, type RateLimitModuleOptions } from '../../../lib/index.js';

/** What became of the requests the app received. */
export class Tally {
  /** Requests whose handler ran. */
  handled = 0;
  /** The status of each request refused by an exception (the guard's 403 or 429, or any other). */
  refused: number[] = [];
  get settled(): number {
    return this.handled + this.refused.length;
  }
}

export const tally = new Tally();

type Req = { socket: Socket; raw?: { socket: Socket }; headers: Record<string, string | undefined> };

/** Waits until the client's connection is gone when the request asks for it (`x-wait-for-close: <where>`). */
async function waitForClose(req: Req, where: string): Promise<void> {
  const socket = req.raw?.socket ?? req.socket;
  if (req.headers['x-wait-for-close'] === where && !socket.destroyed) await once(socket, 'close');
}

/** An asynchronous middleware (an app's tracing or session middleware), here slow enough to outlive the connection. */
@Injectable()
export class SlowMiddleware implements NestMiddleware {
  async use(req: Req, _res: unknown, next: () => void): Promise<void> {
    await waitForClose(req, 'middleware');
    next();
  }
}

/** An asynchronous guard in front of the rate limit (an app's authentication), as slow. */
@Injectable()
export class SlowGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    await waitForClose(context.switchToHttp().getRequest<Req>(), 'guard');
    return true;
  }
}

@Controller()
@UseGuards(SlowGuard, RateLimitGuard)
export class PeerController {
  @Post('items') create(@Body() body: unknown) {
    tally.handled++;
    return { created: body };
  }

  @Get('items') list() {
    tally.handled++;
    return [];
  }
}

/** Counts every refusal, then answers as usual (to a client that may be gone). */
@Catch()
export class CountingFilter implements ExceptionFilter {
  catch(exception: { getStatus?: () => number }, host: ArgumentsHost): void {
    const status = typeof exception.getStatus === 'function' ? exception.getStatus() : 500;
    tally.refused.push(status);
    const response = host
      .switchToHttp()
      .getResponse<{ code?: (n: number) => { send(b: unknown): void }; status?: (n: number) => { json(b: unknown): void } }>();
    try {
      if (typeof response.code === 'function') response.code(status).send({ status });
      else response.status?.(status).json({ status });
    } catch {
      // The client is gone.
    }
  }
}

export function peerModule(options: RateLimitModuleOptions) {
  @Module({
    imports: [RateLimitModule.forRoot({ rules: [{ limit: 100, windowMs: 60_000, algorithm: 'fixed-window' }], registerGlobalGuard: false, ...options })],
    controllers: [PeerController],
    providers: [{ provide: APP_FILTER, useClass: CountingFilter }, SlowGuard],
  })
  class PeerModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(SlowMiddleware).forRoutes(PeerController);
    }
  }
  return { imports: [PeerModule] };
}
