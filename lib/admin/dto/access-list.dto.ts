import { IsIn, IsInt, IsString, Length, Max, Min } from 'class-validator';
import type { AccessListKind } from '../../storage/access-list-store.interface.js';
import { MAX_REASON_LENGTH } from '../admin.constants.js';
import { ApiDoc } from '../admin-openapi.js';
import { CIDR_SCHEMA, IsCidr, NarrowUnlessForced, Optional, WIDE_DOC } from './admin-validators.js';
import { ForceField } from './force-field.js';

export const ACCESS_KINDS: readonly AccessListKind[] = ['allow', 'deny'];

const KIND_DOC = '`allow`: skips every rule and ban; `deny`: answered 403.';
const CIDR_DOC = 'A single IPv4 or IPv6 address, or a CIDR range without host bits (`203.0.113.0/24`, `2001:db8::/48`); no zone id.';

/** Query of `GET /access-list`. */
export class ListAccessListQuery {
  @ApiDoc({ description: `Only the allow-list or only the deny-list. ${KIND_DOC}`, enum: ACCESS_KINDS, required: false })
  @IsIn(ACCESS_KINDS)
  @Optional()
  kind?: AccessListKind;
}

/** Body of `POST /access-list`. */
export class CreateAccessEntryBody {
  @ApiDoc({ description: KIND_DOC, enum: ACCESS_KINDS })
  @IsIn(ACCESS_KINDS)
  kind!: AccessListKind;

  @ApiDoc({ description: `${CIDR_DOC} ${WIDE_DOC}`, ...CIDR_SCHEMA, example: '198.51.100.0/24' })
  @NarrowUnlessForced()
  @IsCidr()
  cidr!: string;

  @ApiDoc({ description: `A note for operators (at most ${MAX_REASON_LENGTH} characters).`, type: 'string', required: false, maxLength: MAX_REASON_LENGTH })
  @Length(0, MAX_REASON_LENGTH)
  @IsString()
  @Optional()
  note?: string;

  @ApiDoc({ description: 'When the entry stops applying, in epoch milliseconds (in the future); absent: until removed.', type: 'integer', required: false })
  @Max(Number.MAX_SAFE_INTEGER)
  @Min(0)
  @IsInt()
  @Optional()
  expiresAtMs?: number;

  @ForceField()
  force?: boolean;
}

/** Query of `DELETE /access-list`. */
export class RemoveAccessEntryQuery {
  @ApiDoc({ description: 'The list to remove the entry from.', enum: ACCESS_KINDS })
  @IsIn(ACCESS_KINDS)
  kind!: AccessListKind;

  @ApiDoc({ description: `The entry's address or range, as added (any spelling of the same network). ${CIDR_DOC}`, ...CIDR_SCHEMA })
  @IsCidr()
  cidr!: string;
}
