import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * A request whose path is longer than route patterns are run on (1 024 characters), in an app with
 * route entries: refused with 414 rather than let past every entry. Problem details.
 */
export class UriTooLongException extends HttpException {
  constructor(detail: string) {
    super({ type: 'about:blank', title: 'URI Too Long', status: HttpStatus.URI_TOO_LONG, detail }, HttpStatus.URI_TOO_LONG);
  }
}
