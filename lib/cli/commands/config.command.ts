import type { Command } from 'commander';
import { RateLimitConfigurationError } from '../../errors/rate-limit-configuration.error.js';
import { ReportedFailure } from '../cli-error.js';
import { printJson, printLine } from '../output.js';

/** `rampart config validate`: a configuration file checked offline, as the app would check it. */
export function addConfigCommand(program: Command): void {
  const config = program.command('config').description('configuration files: check one offline');

  config
    .command('validate')
    .description('check a configuration file (YAML or JSON) as the app would at startup, offline: every problem with its line, column and key')
    .argument('<file>', 'the configuration file')
    .option('--json', 'print { file, valid, problems } as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const problems = await configProblems(file);
      if (options.json) printJson({ file, valid: problems.length === 0, problems });
      else if (problems.length === 0) printLine(`${file}: valid`);
      else for (const problem of problems) printLine(problem);
      if (problems.length > 0) throw new ReportedFailure();
    });
}

/** Every problem of the file, each `file:line:col: key message`; none when it is valid. */
async function configProblems(file: string): Promise<readonly string[]> {
  const { loadConfigFile } = await import('../../config-file/index.js');
  try {
    await loadConfigFile(file);
    return [];
  } catch (error) {
    if (error instanceof RateLimitConfigurationError) return error.problems;
    throw error;
  }
}
