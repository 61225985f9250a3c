import { HttpException, HttpStatus } from '@nestjs/common';

/** Why a client is refused outright. */
export type ClientBanReason = 'banned' | 'deny-listed';

/** The JSON body of a 403 for a banned or deny-listed client (RFC 9457 problem details). */
export interface ClientBannedProblem {
  readonly type: 'about:blank';
  readonly title: 'Forbidden';
  readonly status: 403;
  readonly detail: string;
  /** `banned`: permanently banned (until an operator lifts it); `deny-listed`: the address is on the deny-list. */
  readonly reason: ClientBanReason;
}

/** 403 Forbidden for a client that is permanently banned or deny-listed. */
export class ClientBannedException extends HttpException {
  constructor(
    readonly reason: ClientBanReason,
    detail: string,
  ) {
    const body: ClientBannedProblem = { type: 'about:blank', title: 'Forbidden', status: HttpStatus.FORBIDDEN, detail, reason };
    super(body, HttpStatus.FORBIDDEN);
  }
}
