#!/usr/bin/env node
import { CommanderError } from 'commander';
import { errorText } from '../errors/describe.js';
import { CliError, EXIT, ReportedFailure } from './cli-error.js';
import { createProgram } from './program.js';
import { terminalText } from './terminal-text.js';

/** What commander reports with exit code 0: help or the version, asked for. */
const ANSWERED = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * The exit code of what a command threw, after printing it as one line on stderr (commander has
 * printed its own already). Never a stack trace: an unexpected error is one line too.
 */
function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return ANSWERED.has(error.code) ? EXIT.ok : EXIT.usage;
  if (!(error instanceof ReportedFailure)) process.stderr.write(`error: ${terminalText(errorText(error))}\n`);
  return error instanceof CliError ? error.exitCode : EXIT.failed;
}

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeOf(error);
}
