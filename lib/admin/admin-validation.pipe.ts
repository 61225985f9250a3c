import { HttpStatus, ValidationPipe, type ValidationError } from '@nestjs/common';
import * as messages from '../errors/messages.js';
import { AdminProblemException } from './admin-problem.js';

/** Most validation problems listed in one answer. */
const MAX_PROBLEMS = 20;

/**
 * The admin controller's own pipe, whatever the app's global pipes: unknown fields are refused,
 * query text is converted only by the DTOs' explicit conversions, and every failure is a 400 with a
 * problem-details body listing what is wrong.
 */
export function createAdminValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors: ValidationError[]) => {
      const problems = flatten(errors).slice(0, MAX_PROBLEMS);
      return new AdminProblemException(HttpStatus.BAD_REQUEST, messages.adminInvalidRequest(problems), problems);
    },
  });
}

function flatten(errors: readonly ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {});
    return [...own, ...flatten(error.children ?? [], path)];
  });
}
