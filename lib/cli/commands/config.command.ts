import type { Command } from 'commander';
import type { AdminConfigView, AdminReloadView } from '../../admin/dto/config-views.dto.js';
import { RateLimitConfigurationError } from '../../errors/rate-limit-configuration.error.js';
import { ReportedFailure } from '../cli-error.js';
import { configReport } from '../config-report.js';
import { adminClient } from '../connection.js';
import { printJson, printLine, printLines } from '../output.js';

/** `rampart config show|reload|validate`: the configuration in force, its reload, and a file checked offline. */
export function addConfigCommand(program: Command): void {
  const config = program.command('config').description("the app's configuration in force, its reload, and configuration files checked offline");

  config
    .command('show')
    .description('show the configuration the app enforces now: its file, version and hash, rules, routes, excluded paths, groups, escalation')
    .option('--json', "print what GET config answers (with the file's content, secrets masked)")
    .action(async (options: { json?: boolean }, command: Command) => {
      const view = await adminClient(command).get<AdminConfigView>('config', {}, ['version', 'source', 'effective']);
      if (options.json) return printJson(view);
      printLines(configReport(view));
    });

  config
    .command('reload')
    .description('make the app read its configuration file again (on the instance that answers); an invalid file changes nothing')
    .option('--json', 'print what the admin API answered')
    .action(async (options: { json?: boolean }, command: Command) => {
      const result = await adminClient(command).post<AdminReloadView>('config/reload', {}, ['status', 'version']);
      if (options.json) return printJson(result);
      const restart = result.restartNeeded?.length ? `; at the next start only: ${result.restartNeeded.join(', ')}` : '';
      printLine(
        `${result.status === 'reloaded' ? 'reloaded' : 'unchanged'}: version ${result.version} (sha256 ${result.hash.slice(0, 12)}) in force${restart}`,
      );
    });

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
