import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { OutcomeSettler } from './outcome-settler.js';

/**
 * Settles the outcome-aware rules of a GraphQL resolver or a microservice handler once it is
 * done: its stream completing is a success, its failing an error (the outcome's `error`). A guard
 * cannot see a call end, an interceptor can. Rampart puts it at startup on the handlers with such
 * rules only (see `OutcomePlacement`), so that no other call runs it. A call unsubscribed
 * before it ended (its client went away) is counted under every rule, as is one whose interceptor
 * is never reached (a guard after Rampart's refused it: see `UNTAKEN_CALL_MS`).
 */
export class OutcomeInterceptor implements NestInterceptor {
  static readonly instance = new OutcomeInterceptor();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const settle = OutcomeSettler.take(context.getArgs());
    if (settle === undefined) return next.handle();
    const protocol = context.getType<string>();
    return new Observable((subscriber) => {
      const subscription = next.handle().subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          void settle({ protocol, error: error ?? new Error('undefined') });
          subscriber.error(error);
        },
        complete: () => {
          void settle({ protocol });
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        // Unsubscribed before it ended (its client went away): counted under every rule. Once settled, nothing.
        void settle(undefined);
      };
    });
  }
}
