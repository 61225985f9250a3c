import { ApiDoc } from '../admin-openapi.js';
import { AdminViolationView } from './views.dto.js';

/*
 * What `GET /stats` answers: the figures of a window, for the fleet or one instance. Times are
 * ISO 8601 strings (UTC), like every admin view.
 */

const ISO = { type: 'string', format: 'date-time' } as const;
const COUNT = { type: 'integer' } as const;

/** What shadow mode would have refused within the window (those requests were admitted). */
export class AdminShadowStatsView {
  @ApiDoc({ description: 'Requests a shadow rule would have limited.', ...COUNT })
  limited!: number;
  @ApiDoc({ description: 'Requests a shadow block would have refused.', ...COUNT })
  blocked!: number;
  @ApiDoc({ description: 'Requests a ban or deny-list entry in shadow mode would have refused.', ...COUNT })
  banned!: number;
  @ApiDoc({ description: 'Violations of shadow rules.', ...COUNT })
  violations!: number;
}

/** One rule's figures within the window. */
export class AdminRuleStatsView {
  @ApiDoc({ description: 'Rule name (`other` for rules past stats.maxRuleLabels).', type: 'string' })
  rule!: string;
  @ApiDoc({ description: 'Requests it counted.', ...COUNT })
  requests!: number;
  @ApiDoc({ description: 'Requests it refused (a shadow rule: would have refused).', ...COUNT })
  refused!: number;
  @ApiDoc({ description: 'Admissions that used at least stats.nearLimitRatio of its quota.', ...COUNT })
  nearLimit!: number;
}

/** One offending client key. */
export class AdminKeyStatsView {
  @ApiDoc({ description: 'Client key.', type: 'string' })
  key!: string;
  @ApiDoc({ description: 'Requests refused (or that shadow mode would have refused) within the window.', ...COUNT })
  refusals!: number;
}

/** One instance's share of the window. */
export class AdminInstanceStatsView {
  @ApiDoc({ description: 'The instance: `<host>:<pid>:<random>`, unique per process.', type: 'string' })
  instance!: string;
  @ApiDoc({ description: 'Host name.', type: 'string' })
  host!: string;
  @ApiDoc({ description: 'Process id.', ...COUNT })
  pid!: number;
  @ApiDoc({ description: 'When it started recording.', ...ISO })
  startedAt!: string;
  @ApiDoc({ description: 'When its figures were taken: now for the instance that answers, its last report for the others.', ...ISO })
  reportedAt!: string;
  @ApiDoc({ description: 'Requests it decided within the window.', ...COUNT })
  requests!: number;
  @ApiDoc({ description: 'Of those, refused (limited, blocked or banned).', ...COUNT })
  refused!: number;
}

/** The figures of a window. */
export class AdminStatsView {
  @ApiDoc({
    description:
      "true: every instance that reported to the storage within stats.retentionMs is summed; false: the storage keeps no statistics (no `stats` store), so these are the answering instance's alone.",
    type: 'boolean',
  })
  fleet!: boolean;
  @ApiDoc({ description: 'The instance asked for (`instance`); absent for the fleet.', type: 'string', required: false })
  instance?: string;
  @ApiDoc({ description: 'The window asked for, in milliseconds.', ...COUNT })
  windowMs!: number;
  @ApiDoc({ description: 'Start of the first bucket counted: now - windowMs, rounded down to a bucket boundary.', ...ISO })
  from!: string;
  @ApiDoc({ description: 'Now.', ...ISO })
  to!: string;
  @ApiDoc({ description: 'Requests decided.', ...COUNT })
  requests!: number;
  @ApiDoc({ description: 'Requests let through (those shadow mode would have refused included).', ...COUNT })
  admitted!: number;
  @ApiDoc({ description: 'Refused by a rule (429).', ...COUNT })
  limited!: number;
  @ApiDoc({ description: 'Refused by a temporary block (429).', ...COUNT })
  blocked!: number;
  @ApiDoc({ description: 'Refused by a ban or a deny-list entry (403).', ...COUNT })
  banned!: number;
  @ApiDoc({ description: "Refused because the store failed (a rule's onStoreError: 'deny').", ...COUNT })
  unavailable!: number;
  @ApiDoc({ description: '(limited + blocked + banned) / requests; 0 without requests.', type: 'number' })
  blockRate!: number;
  @ApiDoc({ description: 'Violations of enforced rules.', ...COUNT })
  violations!: number;
  @ApiDoc({ description: 'violations × 60000 / (to − from): per minute of the span counted (windowMs rounded out to whole buckets).', type: 'number' })
  violationsPerMinute!: number;
  @ApiDoc({
    description: 'Temporary blocks made (by escalation or operators); the blocks shadow rules compute are left out (their refusals are in shadow.blocked).',
    ...COUNT,
  })
  blocksMade!: number;
  @ApiDoc({ description: 'Permanent bans made; the bans shadow rules compute are left out (their refusals are in shadow.banned).', ...COUNT })
  bansMade!: number;
  @ApiDoc({ description: 'What shadow mode would have refused.', type: AdminShadowStatsView })
  shadow!: AdminShadowStatsView;
  @ApiDoc({ description: 'Rules by requests refused, then by requests counted (at most 10).', type: AdminRuleStatsView, isArray: true })
  topRules!: AdminRuleStatsView[];
  @ApiDoc({
    description:
      'Client keys by refusals, most first (at most stats.topKeys, 20 by default). Exact while each instance refused at most stats.topKeys keys per bucket.',
    type: AdminKeyStatsView,
    isArray: true,
  })
  topKeys!: AdminKeyStatsView[];
  @ApiDoc({ description: 'Each instance counted, by name.', type: AdminInstanceStatsView, isArray: true })
  instances!: AdminInstanceStatsView[];
  @ApiDoc({
    description: "The newest violations since `from` recorded in the storage (every instance's, whatever `instance`), at most 20, newest first.",
    type: AdminViolationView,
    isArray: true,
  })
  recentViolations!: AdminViolationView[];
}
