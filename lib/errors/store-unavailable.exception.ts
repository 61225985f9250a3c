import { HttpException, HttpStatus } from '@nestjs/common';

/** The JSON body of a 503 answered while the rate-limit store is down (RFC 9457 problem details). */
export interface StoreUnavailableProblem {
  readonly type: 'about:blank';
  readonly title: 'Service Unavailable';
  readonly status: 503;
  readonly detail: string;
  readonly retryAfterSeconds: number;
}

/** 503 Service Unavailable, for a rule with `onStoreError: 'deny'` while the store is down. */
export class StoreUnavailableException extends HttpException {
  constructor(detail: string, retryAfterSeconds = 1) {
    const body: StoreUnavailableProblem = {
      type: 'about:blank',
      title: 'Service Unavailable',
      status: HttpStatus.SERVICE_UNAVAILABLE,
      detail,
      retryAfterSeconds,
    };
    super(body, HttpStatus.SERVICE_UNAVAILABLE);
  }
}
