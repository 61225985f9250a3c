import { HttpException, HttpStatus } from '@nestjs/common';

/** The JSON body of a 429 answered when every slot of a concurrency limit is taken (RFC 9457 problem details). */
export interface ConcurrencyLimitProblem {
  readonly type: 'about:blank';
  readonly title: 'Too Many Requests';
  readonly status: 429;
  readonly detail: string;
  /** The concurrency limit's name. */
  readonly rule: string;
  /** Requests of one client it lets in flight at once. */
  readonly limit: number;
  /** Always 1: a slot may come free any moment. */
  readonly retryAfterSeconds: number;
}

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
