import { HttpException, HttpStatus } from '@nestjs/common';
import type { RateLimitProblem } from '../rate-limit.exception.js';

/**
 * The JSON body of a 429 answered when every slot of a concurrency limit is taken (RFC 9457 problem
 * details): a rate limit's without a window. `rule` names the concurrency limit, `limit` is its
 * slots, and `retryAfterSeconds` is always 1 (a slot may come free any moment).
 */
export type ConcurrencyLimitProblem = Omit<RateLimitProblem, 'windowMs'>;

/** 429 Too Many Requests: the client has `limit` requests in flight on the route already (`@ConcurrencyLimit`). */
export class ConcurrencyLimitExceededException extends HttpException {
  constructor(name: string, limit: number, detail: string) {
    const body: ConcurrencyLimitProblem = {
      type: 'about:blank',
      title: 'Too Many Requests',
      status: HttpStatus.TOO_MANY_REQUESTS,
      detail,
      rule: name,
      limit,
      retryAfterSeconds: 1,
    };
    super(body, HttpStatus.TOO_MANY_REQUESTS);
  }
}
