import type { Command } from 'commander';
import type { AdminBanPage, AdminBanView, AdminLiftResult } from '../../admin/dto/views.dto.js';
import { adminClient, banTarget } from '../connection.js';
import { formatDuration } from '../durations.js';
import { durationOption } from '../option-parsers.js';
import { printJson, printLine, printLines, shortTime } from '../output.js';
import { table } from '../terminal-text.js';
import { CliError } from '../cli-error.js';
import * as messages from '../../errors/cli-messages.js';

/** The largest page the admin API serves. */
const PAGE_LIMIT = 500;
const DEFAULT_REASON = 'banned with the rampart CLI';
const AS_KEY = 'send TARGET as a client key even though it has a "/" (an IPv6 network key such as 2001:db8:1:2::/64)';

interface ListOptions {
  readonly target?: string;
  readonly asKey?: boolean;
  readonly all?: boolean;
  readonly json?: boolean;
}

/** `rampart bans list|add|remove`. */
export function addBansCommand(program: Command): void {
  const bans = program.command('bans').description('list, add and lift bans of client keys and address ranges');

  bans
    .command('list')
    .description('list the bans in force (with --all, lifted and expired ones too)')
    .option('--target <key|cidr>', 'only the ban of this client key or range')
    .option('--as-key', AS_KEY)
    .option('--all', 'ended bans too')
    .option('--json', 'print the bans as a JSON array')
    .action(async (options: ListOptions, command: Command) => {
      const client = adminClient(command);
      const items: AdminBanView[] = [];
      let cursor: string | undefined;
      const seen = new Set<string>();
      do {
        const page: AdminBanPage = await client.get(
          'bans',
          { ...(options.target ? banTarget(options.target, options.asKey) : {}), active: options.all ? undefined : true, limit: PAGE_LIMIT, cursor },
          ['items'],
        );
        items.push(...page.items);
        cursor = page.nextCursor;
        // A server that repeats a cursor would be followed forever.
        if (cursor !== undefined && seen.has(cursor)) throw new CliError(messages.repeatedCursor());
        if (cursor !== undefined) seen.add(cursor);
      } while (cursor !== undefined);
      if (options.json) return printJson(items);
      if (items.length === 0) return printLine(options.all ? 'no bans' : 'no bans in force');
      const header = ['TARGET', 'KIND', 'SOURCE', ...(options.all ? ['STATE'] : []), 'CREATED', 'EXPIRES', 'BLOCKS', 'REASON'];
      printLines(
        table(
          header,
          items.map((ban) => [
            ban.key ?? ban.cidr,
            ban.kind,
            ban.source,
            ...(options.all ? [banState(ban)] : []),
            shortTime(ban.createdAt),
            ban.expiresAt ? shortTime(ban.expiresAt) : 'never',
            ban.blockCount,
            ban.reason,
          ]),
        ),
      );
    });

  bans
    .command('add')
    .description('ban a client key (an address or an identity) or an address range: permanently (403), or for --duration (429 with Retry-After)')
    .argument('<target>', 'client key (203.0.113.7, user-42) or CIDR range (203.0.113.0/24)')
    .option('--duration <duration>', 'how long (30s, 15m, 1h, 7d or milliseconds); without it the ban is permanent', durationOption)
    .option('--reason <text>', 'why, shown in the ban record', DEFAULT_REASON)
    .option('--as-key', AS_KEY)
    .option('--force', 'accept a range wider than /8 (IPv4) or /32 (IPv6)')
    .option('--json', 'print the ban as JSON')
    .action(async (target: string, options: { duration?: number; reason: string; asKey?: boolean; force?: boolean; json?: boolean }, command: Command) => {
      const body = {
        ...banTarget(target, options.asKey),
        kind: options.duration === undefined ? 'permanent' : 'temporary',
        ...(options.duration !== undefined ? { durationMs: options.duration } : {}),
        reason: options.reason,
        ...(options.force ? { force: true } : {}),
      };
      const ban = await adminClient(command).post<AdminBanView>('bans', body, ['kind', 'active']);
      if (options.json) return printJson(ban);
      const what = ban.key ?? ban.cidr;
      printLine(
        options.duration === undefined
          ? `banned ${what} permanently: ${ban.reason}`
          : `banned ${what} for ${formatDuration(options.duration)} (until ${shortTime(ban.expiresAt)}): ${ban.reason}`,
      );
    });

  bans
    .command('remove')
    .description('lift the ban of a client key or range')
    .argument('<target>', 'client key or CIDR range, as banned')
    .option('--clear-history', "also forget the key's violations and block count, so that it starts afresh")
    .option('--as-key', AS_KEY)
    .option('--json', 'print the lifted ban as JSON')
    .action(async (target: string, options: { clearHistory?: boolean; asKey?: boolean; json?: boolean }, command: Command) => {
      const query = { ...banTarget(target, options.asKey), ...(options.clearHistory ? { clearHistory: true } : {}) };
      const lifted = await adminClient(command).delete<AdminLiftResult>('bans', query, ['ban', 'historyCleared']);
      if (options.json) return printJson(lifted);
      const what = lifted?.ban.key ?? lifted?.ban.cidr ?? target;
      printLine(`lifted the ban of ${what}${lifted?.historyCleared ? '; its violations and block count are forgotten' : ''}`);
    });
}

function banState(ban: AdminBanView): string {
  if (ban.active) return 'active';
  return ban.liftedAt ? 'lifted' : 'expired';
}
