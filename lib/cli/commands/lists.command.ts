import { Argument, type Command } from 'commander';
import type { AdminAccessEntryView, AdminAccessList } from '../../admin/dto/views.dto.js';
import { adminClient } from '../connection.js';
import { formatDuration } from '../durations.js';
import { durationOption } from '../option-parsers.js';
import { printJson, printLine, printLines, shortTime } from '../output.js';
import { table } from '../terminal-text.js';

const LISTS = ['allow', 'deny'] as const;
type ListKind = (typeof LISTS)[number];

const listArgument = (required: boolean) =>
  new Argument(required ? '<list>' : '[list]', 'allow (skips every rule and ban) or deny (answered 403)').choices(LISTS);

/** `rampart lists add|remove|show`: the allow- and deny-lists. */
export function addListsCommand(program: Command): void {
  const lists = program.command('lists').description('the allow-list and the deny-list of addresses and ranges');

  lists
    .command('add')
    .description('add an address or range to the allow-list or the deny-list (replacing its entry)')
    .addArgument(listArgument(true))
    .argument('<address>', 'an IPv4 or IPv6 address or CIDR range')
    .option(
      '--duration <duration>',
      "how long it applies (30s, 15m, 1h, 7d or milliseconds), from this machine's clock; without it: until removed",
      durationOption,
    )
    .option('--reason <text>', 'a note for operators')
    .option('--force', 'accept a range wider than /8 (IPv4) or /32 (IPv6)')
    .option('--json', 'print the entry as JSON')
    .action(async (kind: ListKind, cidr: string, options: { duration?: number; reason?: string; force?: boolean; json?: boolean }, command: Command) => {
      const body = {
        kind,
        cidr,
        ...(options.reason !== undefined ? { note: options.reason } : {}),
        ...(options.duration !== undefined ? { expiresAtMs: Date.now() + options.duration } : {}),
        ...(options.force ? { force: true } : {}),
      };
      const entry = await adminClient(command).post<AdminAccessEntryView>('access-list', body, ['kind', 'cidr']);
      if (options.json) return printJson(entry);
      const until = options.duration !== undefined ? ` for ${formatDuration(options.duration)} (until ${shortTime(entry.expiresAt)})` : '';
      printLine(`added ${entry.cidr} to the ${kind}-list${until}`);
    });

  lists
    .command('remove')
    .description('remove an address or range from the allow-list or the deny-list')
    .addArgument(listArgument(true))
    .argument('<address>', 'the address or range, as added (any spelling of the same network)')
    .action(async (kind: ListKind, cidr: string, _options: object, command: Command) => {
      await adminClient(command).delete('access-list', { kind, cidr }, []);
      printLine(`removed ${cidr} from the ${kind}-list`);
    });

  lists
    .command('show')
    .description('show the entries of both lists, or of one')
    .addArgument(listArgument(false))
    .option('--json', 'print the entries as a JSON array')
    .action(async (kind: ListKind | undefined, options: { json?: boolean }, command: Command) => {
      const list = await adminClient(command).get<AdminAccessList>('access-list', { kind }, ['items']);
      if (options.json) return printJson(list.items);
      if (list.items.length === 0) return printLine(kind ? `the ${kind}-list is empty` : 'both lists are empty');
      printLines(
        table(
          ['LIST', 'CIDR', 'STATE', 'EXPIRES', 'BY', 'NOTE'],
          list.items.map((entry) => [
            entry.kind,
            entry.cidr,
            entry.active ? 'active' : 'expired',
            entry.expiresAt ? shortTime(entry.expiresAt) : 'never',
            entry.createdBy,
            entry.note ?? '',
          ]),
        ),
      );
    });
}
