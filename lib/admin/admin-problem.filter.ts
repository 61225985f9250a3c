import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { setHeader } from '../http-exchange.js';
import { PROBLEM_CONTENT_TYPE } from '../rate-limit.constants.js';
import { AdminProblemException } from './admin-problem.js';

/**
 * Answers the admin API's errors (401, 403, validation 400s, 404, 503) with their problem-details
 * body as `application/problem+json`, whatever filters the app registers globally: the admin API
 * owns its error shape. Other exceptions go on to the app's filters.
 */
@Catch(AdminProblemException)
export class AdminProblemFilter implements ExceptionFilter<AdminProblemException> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: AdminProblemException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<unknown>();
    setHeader(response, 'Content-Type', PROBLEM_CONTENT_TYPE);
    this.adapterHost.httpAdapter.reply(response, exception.getResponse(), exception.getStatus());
  }
}
