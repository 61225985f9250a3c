import type { Command } from 'commander';
import type { AdminBanPage } from '../../admin/dto/views.dto.js';
import * as messages from '../../errors/cli-messages.js';
import { errorText } from '../../errors/describe.js';
import type { AdminClient } from '../admin-client.js';
import { usageError } from '../cli-error.js';
import { adminClient } from '../connection.js';
import { durationOption } from '../option-parsers.js';
import { renderMonitor, type MonitorState } from '../monitor/monitor-view.js';
import { TerminalScreen } from '../monitor/terminal-screen.js';
import { fetchStats } from './stats.command.js';

/** Bans fetched per refresh: more than the view shows, to tell whether there are more. */
const BANS_FETCHED = 20;

/** `rampart monitor`: a live view of the fleet until `q` or Ctrl-C. */
export function addMonitorCommand(program: Command): void {
  program
    .command('monitor')
    .description('a live view of the fleet (statistics, bans in force, recent violations), refreshed in place; q or Ctrl-C quits')
    .option('--interval <duration>', 'time between refreshes (seconds, or 500ms, 1m…)', intervalOption, 2_000)
    .option('--window <duration>', 'the statistics window', durationOption, 60_000)
    .action(async (options: { interval: number; window: number }, command: Command) => {
      const client = adminClient(command);
      if (!process.stdout.isTTY) throw usageError(messages.monitorNeedsTerminal());
      await monitor(client, new TerminalScreen(process.stdin, process.stdout), options.interval, options.window);
    });
}

/** `--interval`: a bare number is seconds here (`--interval 1`), anything else a duration. */
function intervalOption(text: string): number {
  return durationOption(/^\d+$/.test(text) ? `${text}s` : text);
}

/**
 * Refreshes every `intervalMs` until the user quits. A failed refresh (the app down, a timeout, a
 * refused key) is shown in the view, and the next one is tried as usual: the view recovers by
 * itself when the app is back.
 */
function monitor(client: AdminClient, screen: TerminalScreen, intervalMs: number, windowMs: number): Promise<void> {
  const state: MonitorState = { url: client.url, intervalMs, windowMs };
  const draw = () => screen.draw(renderMonitor(state, screen.size));
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const stop = new AbortController();
    const quit = () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      stop.abort();
      screen.leave();
      resolve();
    };
    const refresh = async () => {
      await update(client, state, windowMs, stop.signal);
      if (stopped) return;
      draw();
      timer = setTimeout(() => void refresh(), intervalMs);
    };
    screen.enter({ quit, resize: draw });
    draw();
    void refresh();
  });
}

async function update(client: AdminClient, state: MonitorState, windowMs: number, signal: AbortSignal): Promise<void> {
  state.triedAt = new Date();
  try {
    const [stats, bans] = await Promise.all([
      fetchStats(client, windowMs, signal),
      client.get<AdminBanPage>('bans', { active: true, limit: BANS_FETCHED }, ['items'], signal),
    ]);
    Object.assign(state, { stats, bans: bans.items, moreBans: bans.nextCursor !== undefined, error: undefined, updatedAt: new Date() });
  } catch (error) {
    state.error = errorText(error);
  }
}
