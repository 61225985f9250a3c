import type { AdminConfigView } from '../admin/dto/config-views.dto.js';
import { formatDuration } from './durations.js';
import { shortTime } from './output.js';
import { table, terminalText } from './terminal-text.js';

/** A value of the configuration as a cell: durations (keys ending in Ms) with units, lists joined, absent (or no duration) as `-`. */
function cell(value: unknown, key = ''): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'number' && key.endsWith('Ms')) return value > 0 ? formatDuration(value) : '-';
  if (Array.isArray(value)) return value.length > 0 ? value.map((item) => cell(item)).join(', ') : '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Rows of objects as a table of the given columns (header, key). */
const rowsOf = (items: readonly Record<string, unknown>[], columns: readonly (readonly [string, string])[]) =>
  table(
    columns.map(([header]) => header),
    items.map((item) => columns.map(([, key]) => cell(item[key], key))),
  );

/** `GET config` for people: where it comes from, then what is enforced (rules, routes, excluded paths, groups, escalation). */
export function configReport(view: AdminConfigView): string[] {
  const { effective } = view;
  const lines = [
    `Configuration in force: version ${view.version}, loaded ${shortTime(view.loadedAt)}`,
    view.source === null
      ? "file: none (the app's code options and environment)"
      : `file: ${terminalText(view.source)} (sha256 ${terminalText(view.hash ?? '').slice(0, 12)}); a reload applies ${view.reloadable.join(', ')}`,
    `enabled: ${cell(effective.enabled)}`,
    '',
    'Rules',
    ...rowsOf(effective.rules, [
      ['NAME', 'name'],
      ['LIMIT', 'limit'],
      ['WINDOW', 'windowMs'],
      ['ALGORITHM', 'algorithm'],
      ['BURST', 'burst'],
      ['BLOCK', 'blockDurationMs'],
      ['SCOPE', 'scope'],
      ['GROUPS', 'groups'],
      ['SHADOW', 'shadow'],
    ]),
  ];
  if (effective.routes.length > 0) {
    lines.push(
      '',
      'Routes (first match wins)',
      ...rowsOf(effective.routes, [
        ['PATH', 'path'],
        ['TARGET', 'target'],
        ['METHODS', 'methods'],
        ['RULES', 'rules'],
        ['UNLIMITED GROUPS', 'unlimitedGroups'],
      ]),
    );
  }
  lines.push('', `excluded paths: ${terminalText(cell(effective.excludePaths))}`, `unlimited groups: ${terminalText(cell(effective.unlimitedGroups))}`);
  const escalation = effective.escalation;
  lines.push(
    escalation === null
      ? 'escalation: off'
      : `escalation: ${Object.entries(escalation)
          .map(([key, value]) => `${key} ${cell(value, key)}`)
          .join(', ')}`,
  );
  return lines;
}
