import {
  Catch,
  Controller,
  Get,
  HttpException,
  Param,
  ParseIntPipe,
  StreamableFile,
  UseFilters,
  UseGuards,
  UseInterceptors,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { Observable } from 'rxjs';
import { ConcurrencyLimit, RateLimitModule, SkipThrottle } from '../../lib/index.js';
import { Gate } from '../support/gate.js';
import { startApp, type AdapterName, type TestApp } from '../support/http-app.js';

/** A guard after Rampart's: refuses a request without the right password. */
class PasswordGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { headers } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>();
    if (headers['x-password'] !== 'open sesame') throw new HttpException('wrong password', 401);
    return true;
  }
}

/** An interceptor after the concurrency limit's, failing when asked to. */
class FailingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler) {
    const { headers } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>();
    if (headers['x-fail'] === 'interceptor') throw new HttpException('interceptor failed', 502);
    return next.handle();
  }
}

/** Answers every exception with 418 and a text of its own. */
@Catch()
class TeapotFilter implements ExceptionFilter {
  catch(_exception: unknown, host: ArgumentsHost) {
    const response = host.switchToHttp().getResponse<{ status?: (code: number) => unknown; code?: (code: number) => unknown }>();
    // Express's status(), Fastify's code(); both then send.
    const sender = (typeof response.code === 'function' ? response.code(418) : (response.status as (code: number) => unknown)(418)) as {
      send(body: string): void;
    };
    sender.send('short and stout');
  }
}

/** Routes held open by the test: 2 slots per client on `slow`, 1 shared by `export-a` and `export-b`. */
@Controller()
export class JobsController {
  readonly gate = new Gate();
  /** Streams of `stream` still open, ended by the test. */
  readonly streams: PassThrough[] = [];
  /** Subscriptions to `watch` still open. */
  watchers = 0;

  @ConcurrencyLimit(2) @Get('slow') slow() {
    return this.gate.hold({ done: true });
  }

  @ConcurrencyLimit(1, { name: 'exports', scope: 'exports' }) @Get('export-a') exportA() {
    return this.gate.hold('a');
  }

  @ConcurrencyLimit(1, { name: 'exports', scope: 'exports' }) @Get('export-b') exportB() {
    return this.gate.hold('b');
  }

  @ConcurrencyLimit(1) @Get('items/:id') item(@Param('id', ParseIntPipe) id: number) {
    return this.gate.hold({ id });
  }

  @ConcurrencyLimit(1) @UseGuards(PasswordGuard) @UseInterceptors(FailingInterceptor) @Get('guarded') guarded() {
    return this.gate.hold('in');
  }

  @ConcurrencyLimit(1) @UseFilters(TeapotFilter) @Get('teapot') teapot(): never {
    throw new Error('brewed too long');
  }

  /** Returns at once; the response goes on until the test ends its stream. */
  @ConcurrencyLimit(1) @Get('stream') stream() {
    const stream = new PassThrough();
    this.streams.push(stream);
    stream.write('first part;');
    return new StreamableFile(stream);
  }

  /** An Observable that never emits: Nest tears it down when the client leaves. */
  @ConcurrencyLimit(1) @Get('watch') watch() {
    return new Observable<string>(() => {
      this.watchers++;
      return () => void this.watchers--;
    });
  }

  @SkipThrottle() @ConcurrencyLimit(1) @Get('unthrottled') unthrottled() {
    return this.gate.hold('unthrottled');
  }

  /** No limit of its own: the module's `concurrency`, when it has one. */
  @Get('plain') plain() {
    return this.gate.hold('plain');
  }

  @SkipThrottle() @Get('skipped') skipped() {
    return this.gate.hold('skipped');
  }

  @Get('free') free() {
    return 'free';
  }
}

/** A response as the test client saw it. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly body: unknown;
}

/** A request under way: its answer, and a way to cut it short (the client closes the connection). */
export interface Sent {
  readonly answer: Promise<Answer>;
  abort(): void;
}

/** A listening app and a client that can hold requests open and abort them. */
export interface ConcurrencyApp extends TestApp {
  readonly jobs: JobsController;
  send(path: string, headers?: Record<string, string>): Sent;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
}

/** The app on `adapter`, listening on a port of loopback, with the module's rule of 100 requests a minute. */
export async function startConcurrencyApp(adapter: AdapterName, options: Parameters<typeof RateLimitModule.forRoot>[0] = {}): Promise<ConcurrencyApp> {
  const t = await startApp(adapter, {
    imports: [RateLimitModule.forRoot({ rules: [{ limit: 100, windowMs: 60_000 }], logger: { log() {}, warn() {}, error() {} }, ...options })],
    controllers: [JobsController],
  });
  await (adapter === 'fastify' ? (t.app as NestFastifyApplication).listen(0, '127.0.0.1') : t.app.listen(0, '127.0.0.1'));
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  const send = (path: string, headers?: Record<string, string>) => sendTo(port, path, headers);
  return { ...t, jobs: t.app.get(JobsController), send, get: (path, headers) => send(path, headers).answer };
}

/** Sends a GET to `path` on loopback's `port`, on a connection of its own (aborting it cuts that request only). */
export function sendTo(port: number, path: string, headers: Record<string, string> = {}): Sent {
  const request = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false });
  const answer = new Promise<Answer>((resolve, reject) => {
    request.once('error', reject);
    request.once('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text, body: parse(text) }));
      response.once('error', reject);
    });
  });
  // An aborted request's answer is never awaited.
  answer.catch(() => undefined);
  request.end();
  return { answer, abort: () => request.destroy() };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
