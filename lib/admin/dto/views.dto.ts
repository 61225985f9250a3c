import type { AccessListKind } from '../../storage/access-list-store.interface.js';
import type { BanKind, BanSource } from '../../storage/ban-store.interface.js';
import { ApiDoc } from '../admin-openapi.js';
import { ACCESS_KINDS } from './access-list.dto.js';
import { BAN_KINDS, BAN_SOURCES } from './ban.dto.js';
import { AdminAdaptiveView } from './adaptive-view.dto.js';

/*
 * What the admin API answers. Times are ISO 8601 strings (UTC). These classes only describe the JSON
 * (for OpenAPI and for typed clients); the service builds plain objects of these shapes.
 */

const ISO = { type: 'string', format: 'date-time' } as const;

/** A ban record. */
export class AdminBanView {
  @ApiDoc({ description: 'Stable id: `key:<key>` or `cidr:<canonical cidr>`.', type: 'string', example: 'key:203.0.113.7' })
  id!: string;
  @ApiDoc({
    description: 'The banned client key (key bans): an address key (`203.0.113.7`), or an identity (`user-42`; `id:<identity>` when it reads like an address).',
    type: 'string',
    required: false,
  })
  key?: string;
  @ApiDoc({ description: 'The banned range, canonical (range bans).', type: 'string', required: false })
  cidr?: string;
  @ApiDoc({ description: 'Permanent (403 until lifted) or temporary (a block: 429 until it ends).', enum: BAN_KINDS })
  kind!: BanKind;
  @ApiDoc({ description: 'Whether the ban is in force now.', type: 'boolean' })
  active!: boolean;
  @ApiDoc({ description: 'Who made it: the escalation policy or an operator.', enum: BAN_SOURCES })
  source!: BanSource;
  @ApiDoc({ description: 'Why.', type: 'string' })
  reason!: string;
  @ApiDoc({ description: 'The operator (`api-key:<4 hex digits>`, a user id, `admin`) or `rampart` for automatic bans.', type: 'string' })
  createdBy!: string;
  @ApiDoc({ description: 'When it was made.', ...ISO })
  createdAt!: string;
  @ApiDoc({ description: 'When a temporary ban ends.', ...ISO, required: false })
  expiresAt?: string;
  @ApiDoc({ description: 'When an operator lifted it.', ...ISO, required: false })
  liftedAt?: string;
  @ApiDoc({ description: 'Who lifted it.', type: 'string', required: false })
  liftedBy?: string;
  @ApiDoc({ description: 'Violations recorded for the target when the ban was made.', type: 'integer' })
  violationCount!: number;
  @ApiDoc({ description: 'Temporary blocks applied to the target so far (they grow with each).', type: 'integer' })
  blockCount!: number;
  @ApiDoc({ description: 'Last change.', ...ISO })
  updatedAt!: string;
}

export class AdminBanPage {
  @ApiDoc({ description: 'Bans, most recently changed first.', type: AdminBanView, isArray: true })
  items!: AdminBanView[];
  @ApiDoc({
    description: 'Pass as `cursor` for the next page; absent on the last page. A page may hold fewer than `limit` items.',
    type: 'string',
    required: false,
  })
  nextCursor?: string;
}

export class AdminLiftResult {
  @ApiDoc({ description: 'The ban record as lifted (or as it was, when it had already ended).', type: AdminBanView })
  ban!: AdminBanView;
  @ApiDoc({ description: 'Whether the violations and the ban record were deleted (`clearHistory=true`).', type: 'boolean' })
  historyCleared!: boolean;
}

/** One request over a limit. */
export class AdminViolationView {
  @ApiDoc({ description: 'Client key of the offender: an address key, or an identity (`id:<identity>` when it reads like an address).', type: 'string' })
  key!: string;
  @ApiDoc({ description: 'Name of the rule exceeded.', type: 'string' })
  rule!: string;
  @ApiDoc({ description: "`Controller.handler`, or the rule's scope.", type: 'string' })
  route!: string;
  @ApiDoc({ description: 'HTTP method.', type: 'string' })
  method!: string;
  @ApiDoc({ description: 'Requests counted against the rule when it denied.', type: 'number' })
  hits!: number;
  @ApiDoc({ description: "The rule's limit.", type: 'number' })
  limit!: number;
  @ApiDoc({ description: 'When.', ...ISO })
  at!: string;
}

export class AdminViolationPage {
  @ApiDoc({ description: 'Violations, newest first.', type: AdminViolationView, isArray: true })
  items!: AdminViolationView[];
  @ApiDoc({ description: 'Pass as `cursor` for the next page; absent on the last page.', type: 'string', required: false })
  nextCursor?: string;
}

/** An allow- or deny-list entry. */
export class AdminAccessEntryView {
  @ApiDoc({ description: 'Allow-list or deny-list.', enum: ACCESS_KINDS })
  kind!: AccessListKind;
  @ApiDoc({ description: 'Canonical CIDR (`203.0.113.7/32`, `2001:db8::/48`).', type: 'string' })
  cidr!: string;
  @ApiDoc({ description: 'Whether the entry applies now (not expired).', type: 'boolean' })
  active!: boolean;
  @ApiDoc({ description: "Operator's note.", type: 'string', required: false })
  note?: string;
  @ApiDoc({ description: 'Who added it.', type: 'string' })
  createdBy!: string;
  @ApiDoc({ description: 'When it was added.', ...ISO })
  createdAt!: string;
  @ApiDoc({ description: 'When it stops applying.', ...ISO, required: false })
  expiresAt?: string;
  @ApiDoc({ description: 'Last change.', ...ISO })
  updatedAt!: string;
}

export class AdminAccessList {
  @ApiDoc({ description: 'Entries not removed (expired ones included), by kind then CIDR.', type: AdminAccessEntryView, isArray: true })
  items!: AdminAccessEntryView[];
}

/** One rule's counter for a client. */
export class AdminCounterView {
  @ApiDoc({ description: 'Rule name.', type: 'string' })
  rule!: string;
  @ApiDoc({ description: 'What the rule counts per: `Controller.handler`, or its scope.', type: 'string' })
  route!: string;
  @ApiDoc({ description: 'Quota of the rule.', type: 'number' })
  limit!: number;
  @ApiDoc({ description: 'Cost units left now.', type: 'number' })
  remaining!: number;
  @ApiDoc({ description: 'When the quota is fully available again.', ...ISO })
  resetAt!: string;
  @ApiDoc({ description: "End of a block started by the rule's `blockDurationMs`.", ...ISO, required: false })
  blockedUntil?: string;
}

export const CLIENT_STATUSES = ['none', 'allow-listed', 'deny-listed', 'banned', 'blocked'] as const;

/** What is known about one client key. */
export class AdminClientView {
  @ApiDoc({ description: 'The client key as stored (`id:user-42` is shown as `user-42`).', type: 'string' })
  key!: string;
  @ApiDoc({ description: 'What the guard answers this client now.', enum: CLIENT_STATUSES })
  status!: (typeof CLIENT_STATUSES)[number];
  @ApiDoc({ description: 'End of the block in force (status `blocked`).', ...ISO, required: false })
  blockedUntil?: string;
  @ApiDoc({
    description: "The ban in force that decides the status (the key's, or a range's when the key is an address).",
    type: AdminBanView,
    required: false,
  })
  matchedBan?: AdminBanView;
  @ApiDoc({ description: 'The allow- or deny-list entry that decides the status.', type: AdminAccessEntryView, required: false })
  matchedEntry?: AdminAccessEntryView;
  @ApiDoc({ description: "The key's ban record, in force or not (it carries the block count); null when none.", type: AdminBanView, nullable: true })
  ban!: AdminBanView | null;
  @ApiDoc({ description: "Violations within the escalation policy's `permanentBanWindowMs`.", type: 'integer' })
  recentViolations!: number;
  @ApiDoc({ description: 'The latest violations (at most 20), newest first.', type: AdminViolationView, isArray: true })
  latestViolations!: AdminViolationView[];
  @ApiDoc({
    description:
      "Live counters of the rules that have counted this key, per route or scope. Read by the store keys the guard counts with (a guard subclass's `generateKey` included, called without a request context).",
    type: AdminCounterView,
    isArray: true,
  })
  counters!: AdminCounterView[];
  @ApiDoc({
    description: "The client's baseline, deviation, z-score, trust and effective limit under each adaptive rule it has a state for; absent when none.",
    type: AdminAdaptiveView,
    isArray: true,
    required: false,
  })
  adaptive?: AdminAdaptiveView[];
}

/** An error (RFC 9457 problem details). */
export class AdminProblemView {
  @ApiDoc({ description: 'Always `about:blank`.', type: 'string', example: 'about:blank' })
  type!: string;
  @ApiDoc({ description: 'HTTP status text.', type: 'string', example: 'Bad Request' })
  title!: string;
  @ApiDoc({ description: 'HTTP status.', type: 'integer', example: 400 })
  status!: number;
  @ApiDoc({ description: 'What went wrong and how to fix it.', type: 'string' })
  detail!: string;
  @ApiDoc({ description: 'Every validation problem (400).', type: 'string', isArray: true, required: false })
  errors?: string[];
}

/**
 * The app's own answer to a request refused before the admin API sees it: a body its body parser
 * cannot read (not JSON), or on Fastify a path parameter longer than the router's `maxParamLength`.
 * This is Nest's default error shape; an app with its own global exception filter answers with that
 * filter's.
 */
export class AdminAppErrorView {
  @ApiDoc({ description: 'HTTP status.', type: 'integer', example: 400 })
  statusCode!: number;
  @ApiDoc({ description: 'What was refused.', type: 'string', example: 'Unexpected token \'}\', "{"key":}" is not valid JSON' })
  message!: string;
  @ApiDoc({ description: 'HTTP status text.', type: 'string', required: false, example: 'Bad Request' })
  error?: string;
}
