import { HttpException, HttpStatus } from '@nestjs/common';
import type { RateLimitViolation } from './rate-limit-options.interface.js';

/** The JSON body of a 429 (RFC 9457 problem details). */
export interface RateLimitProblem {
  readonly type: 'about:blank';
  readonly title: 'Too Many Requests';
  readonly status: 429;
  readonly detail: string;
  /** Name of the violated rule. */
  readonly rule: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly retryAfterSeconds: number;
}

/** 429 Too Many Requests, naming the violated rule. */
export class RateLimitExceededException extends HttpException {
  constructor(
    readonly violation: RateLimitViolation,
    detail: string,
  ) {
    const body: RateLimitProblem = {
      type: 'about:blank',
      title: 'Too Many Requests',
      status: HttpStatus.TOO_MANY_REQUESTS,
      detail,
      rule: violation.rule,
      limit: violation.limit,
      windowMs: violation.windowMs,
      retryAfterSeconds: violation.retryAfterSeconds,
    };
    super(body, HttpStatus.TOO_MANY_REQUESTS);
  }
}
