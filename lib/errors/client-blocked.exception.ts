import { HttpException, HttpStatus } from '@nestjs/common';

/** A client inside a temporary block (made by the escalation policy or by an operator). */
export interface ClientBlock {
  /** Epoch ms at which the block ends. */
  readonly untilMs: number;
  readonly retryAfterSeconds: number;
}

/** The JSON body of a 429 for a blocked client (RFC 9457 problem details). */
export interface ClientBlockedProblem {
  readonly type: 'about:blank';
  readonly title: 'Too Many Requests';
  readonly status: 429;
  readonly detail: string;
  /** ISO 8601 time at which the block ends. */
  readonly blockedUntil: string;
  readonly retryAfterSeconds: number;
}

/** 429 Too Many Requests for a client blocked after repeated violations. */
export class ClientBlockedException extends HttpException {
  constructor(
    readonly block: ClientBlock,
    detail: string,
  ) {
    const body: ClientBlockedProblem = {
      type: 'about:blank',
      title: 'Too Many Requests',
      status: HttpStatus.TOO_MANY_REQUESTS,
      detail,
      blockedUntil: new Date(block.untilMs).toISOString(),
      retryAfterSeconds: block.retryAfterSeconds,
    };
    super(body, HttpStatus.TOO_MANY_REQUESTS);
  }
}
