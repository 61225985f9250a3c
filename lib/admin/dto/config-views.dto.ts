import { ApiDoc } from '../admin-openapi.js';

/*
 * What `GET /config` and `POST /config/reload` answer: the configuration in force on the instance
 * that answers, and what a reload did there.
 */

/** What the module enforces now: code options, the configuration file and the environment together. */
export class AdminEffectiveConfigView {
  @ApiDoc({ description: 'False: nothing is counted or refused.', type: 'boolean' })
  enabled!: boolean;
  @ApiDoc({ description: 'The module rules (name, limit, windowMs, algorithm, burst, blockDurationMs, scope, groups, shadow).', type: 'object', isArray: true })
  rules!: Record<string, unknown>[];
  @ApiDoc({ description: 'The route entries, in matching order (path, target, methods, rules, unlimitedGroups).', type: 'object', isArray: true })
  routes!: Record<string, unknown>[];
  @ApiDoc({ description: 'Paths nothing counts or checks.', type: 'string', isArray: true })
  excludePaths!: string[];
  @ApiDoc({ description: 'Groups no rule counts.', type: 'string', isArray: true })
  unlimitedGroups!: string[];
  @ApiDoc({ description: 'The escalation policy; null when off.', type: 'object', nullable: true })
  escalation!: Record<string, unknown> | null;
}

export class AdminConfigView {
  @ApiDoc({ description: '1 at startup, one more at each reload that changed something (per instance).', type: 'integer' })
  version!: number;
  @ApiDoc({
    description: 'SHA-256 of the configuration file in force (equal on instances that loaded the same file); null without a file.',
    type: 'string',
    nullable: true,
  })
  hash!: string | null;
  @ApiDoc({ description: "The configuration file's path; null without one.", type: 'string', nullable: true })
  source!: string | null;
  @ApiDoc({ description: 'When this version was loaded.', type: 'string', format: 'date-time' })
  loadedAt!: string;
  @ApiDoc({ description: 'What a reload applies; every other setting applies at the next start.', type: 'string', isArray: true })
  reloadable!: string[];
  @ApiDoc({
    description: "The file's content (durations in ms), connection-string passwords and alert secrets masked; null without a file.",
    type: 'object',
    nullable: true,
  })
  file!: Record<string, unknown> | null;
  @ApiDoc({ description: 'What is enforced now.', type: AdminEffectiveConfigView })
  effective!: AdminEffectiveConfigView;
}

export class AdminReloadView {
  @ApiDoc({
    description: '`reloaded` (the file changed and is in force) or `unchanged` (the same file and environment as in force).',
    type: 'string',
    enum: ['reloaded', 'unchanged'],
  })
  status!: 'reloaded' | 'unchanged';
  @ApiDoc({ description: 'The version in force now.', type: 'integer' })
  version!: number;
  @ApiDoc({ description: 'SHA-256 of the file in force.', type: 'string' })
  hash!: string;
  @ApiDoc({
    description: 'Settings the file changed that apply only at the next start (storage, global.storeTimeoutMs...).',
    type: 'string',
    isArray: true,
    required: false,
  })
  restartNeeded?: string[];
}
