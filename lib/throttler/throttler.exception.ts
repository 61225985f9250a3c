import { HttpException, HttpStatus } from '@nestjs/common';

/** The default message of a refused request. */
export const throttlerMessage = 'ThrottlerException: Too Many Requests';

/** 429 Too Many Requests, with body `{ statusCode: 429, message }`. */
export class ThrottlerException extends HttpException {
  constructor(message?: string) {
    super(`${message || throttlerMessage}`, HttpStatus.TOO_MANY_REQUESTS);
  }
}
