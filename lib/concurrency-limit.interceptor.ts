import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor, type Type } from '@nestjs/common';
import { from, mergeMap, type Observable } from 'rxjs';
import { Rampart } from './engine/rampart.js';
import { HttpConcurrency } from './http-concurrency/http-concurrency.js';
import type { RpcConcurrency } from './rpc/rpc-concurrency.js';
import { RouteRulesResolver } from './route-rules.resolver.js';

type Handler = (...args: unknown[]) => unknown;

/** The contexts of the requests and calls some instance of the interceptor has seen: each is limited once. */
const seen = new WeakSet<ExecutionContext>();

/**
 * Holds a slot of its handler's `@ConcurrencyLimit` for each HTTP request or microservice call
 * while it is in flight. A guard cannot see a request end, an interceptor can: the slot is taken
 * before the handler runs and given back once the HTTP response is done (or its connection closed)
 * and the handler has ended too, or when a call's stream completes, fails or is unsubscribed, or its
 * client goes away.
 * `@ConcurrencyLimit` puts it on the decorated handlers (or class) only, so routes without a
 * concurrency limit never run it. The microservice part is loaded on the first call it limits.
 */
@Injectable()
export class ConcurrencyLimitInterceptor implements NestInterceptor {
  private rpc: Promise<RpcConcurrency> | undefined;
  private readonly http: HttpConcurrency;

  constructor(
    private readonly rampart: Rampart<ExecutionContext>,
    private readonly routeRules: RouteRulesResolver,
  ) {
    this.http = new HttpConcurrency(rampart);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    // The decorator on a class and on its handler, or with the module's `concurrency`, puts this
    // interceptor in one chain several times (instances of several modules), all handed the same
    // context: the first takes the slot, the others pass.
    if (seen.has(context)) return next.handle();
    seen.add(context);
    const type = context.getType();
    if (type !== 'rpc' && type !== 'http') return next.handle();
    const pool = this.routeRules.concurrency(context.getHandler() as Handler, context.getClass() as Type);
    if (pool === undefined) return next.handle();
    if (type === 'http') return this.http.hold(context, next, pool);
    const rpc = (this.rpc ??= import('./rpc/rpc-concurrency.js').then(({ RpcConcurrency }) => new RpcConcurrency(this.rampart)));
    // An observable at once: the slot is taken when it is subscribed, and given back by its teardown.
    return from(rpc).pipe(mergeMap((limiter) => limiter.hold(context, next, pool)));
  }
}
