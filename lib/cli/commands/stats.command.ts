import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { AdminStatsView } from '../../admin/dto/stats-views.dto.js';
import * as messages from '../../errors/cli-messages.js';
import { errorText } from '../../errors/describe.js';
import type { AdminClient } from '../admin-client.js';
import { CliError } from '../cli-error.js';
import { adminClient } from '../connection.js';
import { formatDuration } from '../durations.js';
import { durationOption } from '../option-parsers.js';
import { count, percent, perMinute, printJson, printLine, printLines, safeJson, shortTime } from '../output.js';
import { table } from '../terminal-text.js';

/** Fields `GET stats` answers, checked so that another API's JSON is not taken for statistics. */
const STATS_FIELDS = ['requests', 'admitted', 'limited', 'blocked', 'banned', 'blockRate', 'topRules', 'topKeys', 'recentViolations'];

/** `GET stats` for the last `windowMs`. */
export const fetchStats = (client: AdminClient, windowMs: number, signal?: AbortSignal) =>
  client.get<AdminStatsView>('stats', { windowMs }, STATS_FIELDS, signal);

/** `rampart stats`: the fleet's figures, printed or exported. */
export function addStatsCommand(program: Command): void {
  program
    .command('stats')
    .description("print the fleet's statistics of the last --window (requests, refusals, block rate, top rules and keys, recent violations)")
    .option('--window <duration>', "the window: 1s up to the app's stats.retentionMs (15m by default)", durationOption, 60_000)
    .option('--export <file>', 'write the report as JSON to this file (atomically) instead of printing it')
    .option('--json', 'print the report as JSON')
    .action(async (options: { window: number; export?: string; json?: boolean }, command: Command) => {
      const stats = await fetchStats(adminClient(command), options.window);
      if (options.export !== undefined) {
        const path = resolve(options.export);
        await writeAtomically(path, `${safeJson(stats)}\n`);
        return printLine(`wrote the statistics of the last ${formatDuration(options.window)} to ${path}`);
      }
      if (options.json) return printJson(stats);
      printLines(statsReport(stats));
    });
}

/** Writes `text` to a temporary file beside `path`, then renames it: readers see the old file or the whole new one. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx', mode: 0o600 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new CliError(messages.cannotWrite(path, (error as NodeJS.ErrnoException).code ?? errorText(error)));
  }
}

/** The report as lines: figures, then top rules, top keys and recent violations as tables. */
function statsReport(stats: AdminStatsView): string[] {
  const scope = stats.fleet ? `the fleet (${stats.instances.length} instance${stats.instances.length === 1 ? '' : 's'})` : 'this instance';
  const lines = [
    `Statistics of ${scope}, ${shortTime(stats.from)} to ${shortTime(stats.to)}`,
    `requests ${count(stats.requests)}   admitted ${count(stats.admitted)}   limited ${count(stats.limited)}   blocked ${count(stats.blocked)}   banned ${count(stats.banned)}   unavailable ${count(stats.unavailable)}`,
    `block rate ${percent(stats.blockRate)}   violations ${count(stats.violations)} (${perMinute(stats.violationsPerMinute)}/min)   blocks made ${count(stats.blocksMade)}   bans made ${count(stats.bansMade)}`,
    `shadow: would have limited ${count(stats.shadow.limited)}, blocked ${count(stats.shadow.blocked)}, banned ${count(stats.shadow.banned)}; violations ${count(stats.shadow.violations)}`,
  ];
  const section = (title: string, rows: string[]) => lines.push('', title, ...(rows.length > 1 ? rows : ['  none']));
  section(
    'Top rules',
    table(
      ['RULE', 'REQUESTS', 'REFUSED', 'NEAR LIMIT'],
      stats.topRules.map((rule) => [rule.rule, count(rule.requests), count(rule.refused), count(rule.nearLimit)]),
    ),
  );
  section(
    'Top keys',
    table(
      ['KEY', 'REFUSALS'],
      stats.topKeys.map((key) => [key.key, count(key.refusals)]),
    ),
  );
  section(
    'Recent violations',
    table(
      ['TIME', 'KEY', 'RULE', 'METHOD', 'ROUTE', 'HITS/LIMIT'],
      stats.recentViolations.map((v) => [shortTime(v.at), v.key, v.rule, v.method, v.route, `${v.hits}/${v.limit}`]),
    ),
  );
  return lines;
}
