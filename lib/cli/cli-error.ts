/**
 * What `rampart` exits with, documented in its `--help` and the README. The codes past 2 follow
 * sysexits.h, so that a script can tell "try again later" and "fix the key" from a failed operation.
 */
export const EXIT = {
  ok: 0,
  /** The operation failed: refused by the admin API (400, 404), an invalid file, a test that could not run. */
  failed: 1,
  /** Bad usage: an unknown command or option, a missing or malformed argument, no URL or key. */
  usage: 2,
  /** The app could not be reached, did not answer in time, or its storage was unavailable (503). */
  unavailable: 69,
  /** The admin API refused the key (401, 403). */
  permission: 77,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error (exit 2), as commander reports its own. */
export const usageError = (message: string) => new CliError(message, EXIT.usage);

/** A failure whose report the command has printed already (the problems `config validate` lists): nothing more is printed. */
export class ReportedFailure extends CliError {
  constructor(exitCode: ExitCode = EXIT.failed) {
    super('', exitCode);
    this.name = 'ReportedFailure';
  }
}
