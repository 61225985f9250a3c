import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import * as messages from '../../errors/messages.js';
import { DEFAULT_ADMIN_PAGE_LIMIT, MAX_ADMIN_PAGE_LIMIT } from '../admin.constants.js';
import { ApiDoc } from '../admin-openapi.js';
import { Optional, ToInteger } from './admin-validators.js';

/** Opaque cursors are base64url text. */
const CURSOR = /^[A-Za-z0-9_-]{1,1024}$/;

/** `limit` and `cursor` of a paginated list. */
export class PageQuery {
  @ApiDoc({
    description: `Items per page, 1 to ${MAX_ADMIN_PAGE_LIMIT}.`,
    type: 'integer',
    required: false,
    minimum: 1,
    maximum: MAX_ADMIN_PAGE_LIMIT,
    default: DEFAULT_ADMIN_PAGE_LIMIT,
  })
  @Max(MAX_ADMIN_PAGE_LIMIT)
  @Min(1)
  @IsInt()
  @ToInteger()
  limit: number = DEFAULT_ADMIN_PAGE_LIMIT;

  @ApiDoc({
    description: 'The `nextCursor` of the previous page, unchanged; absent for the first page.',
    type: 'string',
    pattern: CURSOR.source,
    required: false,
  })
  @Matches(CURSOR, { message: (args) => messages.adminBadCursorFormat(args.property) })
  @IsString()
  @Optional()
  cursor?: string;
}
