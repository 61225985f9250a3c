import { HttpException, HttpStatus } from '@nestjs/common';

/** The JSON body of an admin API error (RFC 9457 problem details). */
export interface AdminProblem {
  readonly type: 'about:blank';
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Every validation problem, for a 400 (and every problem of a configuration file, for a 422). */
  readonly errors?: readonly string[];
}

const TITLES: Readonly<Record<number, string>> = {
  [HttpStatus.BAD_REQUEST]: 'Bad Request',
  [HttpStatus.UNAUTHORIZED]: 'Unauthorized',
  [HttpStatus.FORBIDDEN]: 'Forbidden',
  [HttpStatus.NOT_FOUND]: 'Not Found',
  [HttpStatus.CONFLICT]: 'Conflict',
  [HttpStatus.UNPROCESSABLE_ENTITY]: 'Unprocessable Content',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'Service Unavailable',
};

/** An admin API error answered with a problem-details body. */
export class AdminProblemException extends HttpException {
  constructor(status: HttpStatus, detail: string, errors?: readonly string[]) {
    const body: AdminProblem = {
      type: 'about:blank',
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      ...(errors ? { errors } : {}),
    };
    super(body, status);
  }
}
