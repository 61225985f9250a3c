import { IsString, Matches } from 'class-validator';
import { RULE_NAME_PATTERN } from '../../errors/messages.js';
import { ApiDoc } from '../admin-openapi.js';
import { CLIENT_KEY_SCHEMA, IsClientKey, IsTime, Optional, TIME_SCHEMA, ToTime } from './admin-validators.js';
import { PageQuery } from './page.dto.js';

const TIME_DOC = 'ISO 8601 (`2030-01-01T00:00:00Z`) or epoch milliseconds.';

/** Query of `GET /violations`. */
export class ListViolationsQuery extends PageQuery {
  @ApiDoc({
    description: 'Only the violations of this client key (an address key, an identity, or `id:<identity>` for an identity whatever its text).',
    ...CLIENT_KEY_SCHEMA,
    required: false,
  })
  @IsClientKey()
  @Optional()
  key?: string;

  @ApiDoc({ description: 'Only the violations of this rule (its name).', type: 'string', pattern: RULE_NAME_PATTERN.source, required: false })
  @Matches(RULE_NAME_PATTERN, { message: "rule must be a rule name: 1 to 64 letters, digits, '_', '-' or '.'" })
  @IsString()
  @Optional()
  rule?: string;

  @ApiDoc({ description: `Only violations at or after this time. ${TIME_DOC}`, ...TIME_SCHEMA, required: false, example: '2030-01-01T00:00:00Z' })
  @IsTime()
  @ToTime()
  @Optional()
  from?: number;

  @ApiDoc({ description: `Only violations before this time (later than \`from\`). ${TIME_DOC}`, ...TIME_SCHEMA, required: false, example: '1924992000000' })
  @IsTime()
  @ToTime()
  @Optional()
  to?: number;
}
