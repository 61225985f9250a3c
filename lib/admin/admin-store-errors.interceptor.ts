import { HttpException, HttpStatus, Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, throwError, timeout, type Observable } from 'rxjs';
import * as messages from '../errors/messages.js';
import { setHeader } from '../http-exchange.js';
import { STORAGE_STEP_TIMEOUT_FACTOR, StoreTimeoutError } from '../protection/store-health.js';
import type { RateLimitConfig } from '../rate-limit.config.js';
import { RATE_LIMIT_CONFIG } from '../rate-limit.constants.js';
import { AdminProblemException } from './admin-problem.js';

/** `Retry-After` of an admin request the storage could not answer, in seconds. */
const ADMIN_RETRY_AFTER_SECONDS = 5;

/**
 * Turns a storage that fails or does not answer into `503` with a problem body and `Retry-After`,
 * instead of a 500 or a request that hangs: each admin request waits at most
 * `STORAGE_STEP_TIMEOUT_FACTOR × storeTimeoutMs`. The cause goes to the module's `logger`, not to
 * the client: a driver's error text may name hosts, users or databases. HTTP errors (400, 404...)
 * pass as they are.
 */
@Injectable()
export class AdminStoreErrorsInterceptor implements NestInterceptor {
  private readonly timeoutMs: number;

  constructor(@Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig) {
    this.timeoutMs = STORAGE_STEP_TIMEOUT_FACTOR * config.storeTimeoutMs;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      timeout({ first: this.timeoutMs, with: () => throwError(() => new StoreTimeoutError(this.timeoutMs)) }),
      catchError((error: unknown) => {
        if (error instanceof HttpException) return throwError(() => error);
        const http = context.switchToHttp();
        const { method, url } = http.getRequest<{ method?: string; url?: string }>();
        const reason = error instanceof Error ? error.message : String(error);
        const timedOut = error instanceof StoreTimeoutError;
        // A timeout's stack says nothing; a failure's shows where the storage threw.
        const stack = error instanceof Error && !timedOut ? error.stack : undefined;
        this.config.logger.error(messages.adminStoreFailed(`${method ?? ''} ${url ?? ''}`.trim(), reason), stack);
        setHeader(http.getResponse(), 'Retry-After', String(ADMIN_RETRY_AFTER_SECONDS));
        const detail = messages.adminStoreUnavailable(timedOut ? reason : null, ADMIN_RETRY_AFTER_SECONDS);
        return throwError(() => new AdminProblemException(HttpStatus.SERVICE_UNAVAILABLE, detail));
      }),
    );
  }
}
