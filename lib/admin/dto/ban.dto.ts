import { IsDefined, IsIn, IsInt, IsString, Length, Max, Min, ValidateIf } from 'class-validator';
import * as messages from '../../errors/messages.js';
import type { BanKind, BanSource } from '../../storage/ban-store.interface.js';
import { MAX_BAN_DURATION_MS, MAX_REASON_LENGTH, MIN_BAN_DURATION_MS } from '../admin.constants.js';
import { ApiDoc } from '../admin-openapi.js';
import {
  CIDR_SCHEMA,
  CLIENT_KEY_SCHEMA,
  IsBooleanQuery,
  IsCidr,
  IsClientKey,
  NarrowUnlessForced,
  NotWith,
  OnlyWhen,
  Optional,
  ToBoolean,
  WIDE_DOC,
} from './admin-validators.js';
import { ForceField } from './force-field.js';
import { PageQuery } from './page.dto.js';

export const BAN_KINDS: readonly BanKind[] = ['permanent', 'temporary'];
export const BAN_SOURCES: readonly BanSource[] = ['auto', 'admin', 'ddos'];

const KEY_DOC =
  'Client key: an address as the guard keys it (`203.0.113.7`, `2001:db8:1:2::/64`), or an identity from a key resolver or tracker (`user-42`). ' +
  '`id:<identity>` names an identity whatever its text (`id:198.51.100.7` is the identity, never the address).';
const CIDR_DOC = 'An IPv4 or IPv6 address, or a CIDR range without host bits (`203.0.113.0/24`, `2001:db8::/48`); no zone id.';

/** Validates `key` when it is given, or when `cidr` is not (then it is missing). */
const keyUnlessCidr = (o: { key?: unknown; cidr?: unknown }) => o.key !== undefined || o.cidr === undefined;

/** Query of `GET /bans`. */
export class ListBansQuery extends PageQuery {
  @ApiDoc({ description: 'Only permanent bans, or only temporary ones (blocks).', enum: BAN_KINDS, required: false })
  @IsIn(BAN_KINDS)
  @Optional()
  kind?: BanKind;

  @ApiDoc({ description: "Only automatic bans (escalation), only operators' ones, or only DDoS detection's blocks.", enum: BAN_SOURCES, required: false })
  @IsIn(BAN_SOURCES)
  @Optional()
  source?: BanSource;

  @ApiDoc({ description: `Only the ban of this client key. ${KEY_DOC}`, ...CLIENT_KEY_SCHEMA, required: false })
  @IsClientKey()
  @Optional()
  key?: string;

  @ApiDoc({ description: `Only the ban of this range. ${CIDR_DOC}`, ...CIDR_SCHEMA, required: false })
  @NotWith('key', messages.adminKeyAndCidr())
  @IsCidr()
  @Optional()
  cidr?: string;

  @ApiDoc({ description: '`true`: only bans in force now; `false`: only lifted or expired ones; absent: all.', type: 'boolean', required: false })
  @IsBooleanQuery()
  @ToBoolean()
  @Optional()
  active?: boolean;
}

/** Body of `POST /bans`. */
export class CreateBanBody {
  @ApiDoc({ description: `The client key to ban (exactly one of key or cidr). ${KEY_DOC}`, ...CLIENT_KEY_SCHEMA, required: false })
  @IsClientKey()
  @IsDefined({ message: messages.adminTargetRequired() })
  @ValidateIf(keyUnlessCidr)
  key?: string;

  @ApiDoc({
    description: `The addresses to ban (exactly one of key or cidr). ${CIDR_DOC} ${WIDE_DOC}`,
    ...CIDR_SCHEMA,
    required: false,
    example: '203.0.113.0/24',
  })
  @NotWith('key', messages.adminKeyAndCidr())
  @NarrowUnlessForced()
  @IsCidr()
  @Optional()
  cidr?: string;

  @ApiDoc({ description: '`permanent` (403 until lifted) or `temporary` (429 with Retry-After until it ends).', enum: BAN_KINDS })
  @IsIn(BAN_KINDS)
  kind!: BanKind;

  @ApiDoc({
    description: 'Length of a temporary ban in milliseconds (1 s to 365 days); required for temporary bans, refused for permanent ones.',
    type: 'integer',
    required: false,
    minimum: MIN_BAN_DURATION_MS,
    maximum: MAX_BAN_DURATION_MS,
    example: 3_600_000,
  })
  @OnlyWhen((o) => o['kind'] === 'temporary', messages.adminDurationOnlyTemporary())
  @Max(MAX_BAN_DURATION_MS)
  @Min(MIN_BAN_DURATION_MS)
  @IsInt()
  @IsDefined({ message: messages.adminDurationRequired(MIN_BAN_DURATION_MS, MAX_BAN_DURATION_MS) })
  @ValidateIf((o: { kind?: unknown; durationMs?: unknown }) => o.kind === 'temporary' || o.durationMs !== undefined)
  durationMs?: number;

  @ApiDoc({ description: `Why (1 to ${MAX_REASON_LENGTH} characters); shown in the ban record.`, type: 'string', minLength: 1, maxLength: MAX_REASON_LENGTH })
  @Length(1, MAX_REASON_LENGTH)
  @IsString()
  reason!: string;

  @ForceField()
  force?: boolean;
}

/** Query of `DELETE /bans`. */
export class LiftBanQuery {
  @ApiDoc({ description: `The client key whose ban to lift (exactly one of key or cidr). ${KEY_DOC}`, ...CLIENT_KEY_SCHEMA, required: false })
  @IsClientKey()
  @IsDefined({ message: messages.adminTargetRequired() })
  @ValidateIf(keyUnlessCidr)
  key?: string;

  @ApiDoc({ description: `The range whose ban to lift (exactly one of key or cidr). ${CIDR_DOC}`, ...CIDR_SCHEMA, required: false })
  @NotWith('key', messages.adminKeyAndCidr())
  @IsCidr()
  @Optional()
  cidr?: string;

  @ApiDoc({
    description: "`true` also forgets the key's violations and the ban record with its block count, so the client starts afresh.",
    type: 'boolean',
    required: false,
    default: false,
  })
  @IsBooleanQuery()
  @ToBoolean()
  @Optional()
  clearHistory?: boolean;
}
