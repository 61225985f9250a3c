import type { AdminStatsView } from '../../admin/dto/stats-views.dto.js';
import type { AdminBanView } from '../../admin/dto/views.dto.js';
import { formatDuration } from '../durations.js';
import { count, percent, perMinute } from '../output.js';
import { displayWidth, fit, terminalText, truncate } from '../terminal-text.js';

/** What the monitor knows: the latest answers, and the error of the latest refresh if it failed. */
export interface MonitorState {
  readonly url: string;
  readonly intervalMs: number;
  readonly windowMs: number;
  stats?: AdminStatsView;
  bans?: readonly AdminBanView[];
  /** More bans are in force than `bans` holds. */
  moreBans?: boolean;
  /** Why the latest refresh failed; undefined when it succeeded. */
  error?: string;
  /** When the shown figures were fetched (this machine's clock). */
  updatedAt?: Date;
  /** When the latest refresh was tried. */
  triedAt?: Date;
}

export interface ScreenSize {
  readonly columns: number;
  readonly rows: number;
}

/** Most rows of top rules and keys, and of bans, so that recent violations keep some room. */
const TOP_ROWS = 3;
const BAN_ROWS = 4;

const clock = (date: Date) => date.toTimeString().slice(0, 8);
/** `HH:MM:SS` of an ISO time of the admin API (UTC). */
const utcTime = (iso: string) => /T(\d\d:\d\d:\d\d)/.exec(iso)?.[1] ?? terminalText(iso);

/**
 * The monitor's screen as lines, each at most `columns - 1` columns wide (nothing is ever written in
 * the last column, where a terminal would wrap) and at most `rows` of them, the key help on the last.
 * Every value from the admin API is made safe (terminalText) before it is measured.
 */
export function renderMonitor(state: MonitorState, size: ScreenSize): string[] {
  const width = Math.max(10, size.columns - 1);
  const rows = Math.max(1, size.rows);
  const { stats } = state;
  const lines: string[] = [];
  const both = (left: string, right: string) => {
    const gap = Math.max(1, width - displayWidth(left) - displayWidth(right));
    return displayWidth(left) + displayWidth(right) + 1 > width ? left : `${left}${' '.repeat(gap)}${right}`;
  };
  const rule = '─'.repeat(width);

  lines.push(both(`Rampart monitor  ${terminalText(state.url)}`, state.updatedAt ? `updated ${clock(state.updatedAt)}` : 'connecting…'));
  if (state.error !== undefined) {
    const tried = state.triedAt ? `tried ${clock(state.triedAt)}, ` : '';
    const since = state.updatedAt ? `; figures from ${clock(state.updatedAt)}` : '';
    lines.push(`UNREACHABLE  ${tried}retrying every ${formatDuration(state.intervalMs)}${since}`, `  ${terminalText(state.error)}`);
  } else {
    const scope = stats ? (stats.fleet ? `fleet of ${stats.instances.length} instance${stats.instances.length === 1 ? '' : 's'}` : 'one instance') : '';
    lines.push(`LIVE  ${scope}, last ${formatDuration(state.windowMs)}, every ${formatDuration(state.intervalMs)}`);
  }
  if (stats) {
    lines.push(
      `Requests ${count(stats.requests)}  admitted ${count(stats.admitted)}  limited ${count(stats.limited)}  blocked ${count(stats.blocked)}  banned ${count(stats.banned)}`,
      `Block rate ${percent(stats.blockRate)}  violations/min ${perMinute(stats.violationsPerMinute)}  blocks made ${count(stats.blocksMade)}  bans made ${count(stats.bansMade)}`,
      rule,
    );
    const half = Math.floor((width - 3) / 2);
    const rules = stats.topRules.slice(0, TOP_ROWS).map((r) => column(r.rule, `${count(r.refused)}/${count(r.requests)}`, half));
    const keys = stats.topKeys.slice(0, TOP_ROWS).map((k) => column(k.key, count(k.refusals), half));
    lines.push(`${fit('Top rules (refused/requests)', half)} │ Top keys (refusals)`);
    for (let i = 0; i < Math.max(1, rules.length, keys.length); i++) {
      lines.push(`${rules[i] ?? fit(i === 0 ? '  none' : '', half)} │ ${keys[i] ?? (i === 0 ? '  none' : '')}`);
    }
  }
  if (state.bans) {
    lines.push(rule, `Bans in force (${state.bans.length}${state.moreBans ? '+' : ''})`);
    const shown = state.bans.slice(0, BAN_ROWS);
    const nowMs = stats ? Date.parse(stats.to) : Date.now();
    for (const ban of shown) {
      const ends = ban.expiresAt ? `ends in ${formatDuration(Math.max(0, Date.parse(ban.expiresAt) - nowMs))}` : 'permanent';
      lines.push(`  ${fit(terminalText(ban.key ?? ban.cidr), 28)} ${fit(ends, 16)} ${terminalText(ban.reason)}`);
    }
    if (state.bans.length > shown.length || state.moreBans) lines.push(`  … and more: rampart bans list`);
    if (state.bans.length === 0) lines.push('  none');
  }
  if (stats) {
    lines.push(rule, 'Recent violations (UTC)');
    const room = rows - 1 - lines.length;
    const recent = stats.recentViolations.slice(0, Math.max(0, room));
    for (const v of recent) {
      lines.push(`  ${utcTime(v.at)}  ${fit(terminalText(v.key), 24)} ${fit(terminalText(v.rule), 14)} ${terminalText(`${v.method} ${v.route}`)}`);
    }
    if (stats.recentViolations.length === 0) lines.push('  none');
  }
  const body = lines.slice(0, rows - 1).map((line) => truncate(line, width));
  while (body.length < rows - 1) body.push('');
  return [...body, truncate('q quit', width)];
}

/** A name and a figure in `width` columns: the name cut to make room, the figure right-aligned. */
function column(name: string, figure: string, width: number): string {
  const room = Math.max(1, width - 2 - displayWidth(figure) - 1);
  const label = fit(terminalText(name), room);
  return `  ${label} ${figure}`;
}
