import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT } from './cli-error.js';
import { addBansCommand } from './commands/bans.command.js';
import { addConfigCommand } from './commands/config.command.js';
import { addListsCommand } from './commands/lists.command.js';
import { addMonitorCommand } from './commands/monitor.command.js';
import { addStatsCommand } from './commands/stats.command.js';
import { addTestCommand } from './commands/test.command.js';
import { durationOption } from './option-parsers.js';

const HELP_AFTER = `
Environment:
  RAMPART_URL        the admin API's root, as --url (e.g. http://localhost:3000/rate-limit)
  RAMPART_ADMIN_KEY  the admin API key, as --key; sent as "Authorization: Bearer", never printed

Durations: 30s, 15m, 1h, 7d, 2w, 250ms, or a number of milliseconds.

Exit codes:
  ${EXIT.ok}   success
  ${EXIT.failed}   the operation failed (refused by the admin API, an invalid file, nothing to act on)
  ${EXIT.usage}   usage error (unknown command or option, missing or malformed argument, no URL or key)
  ${EXIT.unavailable}  the app could not be reached, did not answer within --timeout, or its storage was unavailable (503)
  ${EXIT.permission}  the admin API refused the key (401, 403)`;

/** The package's version, from its manifest (two levels above dist/cli). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

/**
 * The `rampart` command line. Errors are thrown (commander's own as CommanderError, after it has
 * printed them) so that `main` decides the exit code.
 */
export function createProgram(): Command {
  const program = new Command('rampart')
    .description('Operate a Rampart rate limiter from a terminal: watch the fleet, manage bans and lists, read statistics, test rules offline.')
    .version(version())
    .addOption(new Option('--url <url>', "the admin API's root, where the app mounted it").env('RAMPART_URL'))
    .addOption(new Option('--key <key>', 'the admin API key (prefer the variable: a command line is visible to other users)').env('RAMPART_ADMIN_KEY'))
    .addOption(new Option('--timeout <duration>', 'longest wait for an answer of the app').argParser(durationOption).default(5_000, '5s'))
    .addHelpText('after', HELP_AFTER)
    // Before the commands are added, so that each inherits it.
    .exitOverride();
  addMonitorCommand(program);
  addTestCommand(program);
  addBansCommand(program);
  addListsCommand(program);
  addStatsCommand(program);
  addConfigCommand(program);
  return program;
}
