import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ADMIN_ACTOR } from './admin.constants.js';

/** Who the admin request acts as, as AdminAuthGuard recorded it. */
export const AdminActor = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const actor = context.switchToHttp().getRequest<Record<symbol, unknown>>()[ADMIN_ACTOR];
  return typeof actor === 'string' ? actor : 'admin';
});
