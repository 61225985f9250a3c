import { HttpException, HttpStatus } from '@nestjs/common';

/** The JSON body of a 401 for a client whose identity could not be told (RFC 9457 problem details). */
export interface ClientUnidentifiedProblem {
  readonly type: 'about:blank';
  readonly title: 'Unauthorized';
  readonly status: 401;
  /** The `IdentityError`'s message. */
  readonly detail: string;
}

/** 401 Unauthorized, for a request whose key or group resolver threw an `IdentityError` (an invalid token). */
export class ClientUnidentifiedException extends HttpException {
  constructor(detail: string) {
    const body: ClientUnidentifiedProblem = { type: 'about:blank', title: 'Unauthorized', status: HttpStatus.UNAUTHORIZED, detail };
    super(body, HttpStatus.UNAUTHORIZED);
  }
}
