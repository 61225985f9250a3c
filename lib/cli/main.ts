#!/usr/bin/env node
import { CommanderError } from 'commander';
import { errorText } from '../errors/describe.js';
import { CliError, EXIT, ReportedFailure } from './cli-error.js';
import { createProgram } from './program.js';
import { terminalText } from './terminal-text.js';

/**
 * The exit code of what a command threw, after printing it as one line on stderr (commander has
 * printed its own already). Never a stack trace: an unexpected error is one line too.
 */
function exitCodeOf(error: unknown): number {
  // Commander exits 0 for the help or the version asked for, 1 for bad usage (which is 2 here).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (!(error instanceof ReportedFailure)) process.stderr.write(`error: ${terminalText(errorText(error))}\n`);
  return error instanceof CliError ? error.exitCode : EXIT.failed;
}

// A reader that stops early (`rampart bans list | head -1`) closes the pipe: the command ends there,
// quietly, as a shell expects of a program whose output is no longer read.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? EXIT.ok);
});

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeOf(error);
}
