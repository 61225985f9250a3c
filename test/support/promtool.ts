import { spawnSync } from 'node:child_process';

/**
 * Runs `promtool check metrics` on an exposition (piped through stdin) and returns what it printed
 * (lint problems) and its exit status. promtool is Debian's `prometheus` package; .ci/run installs it.
 *
 * @throws when promtool is missing, saying how to install it (the check is never skipped)
 */
export function promtoolCheck(exposition: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if (run.error !== undefined && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      'promtool is not installed, so the metrics exposition cannot be checked. Install it with ' +
        '`apt-get install -y --no-install-recommends prometheus` (Debian; .ci/run does it when promtool is missing).',
    );
  }
  if (run.error !== undefined) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}
