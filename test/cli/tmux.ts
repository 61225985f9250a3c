import { execFile } from 'node:child_process';

export interface TmuxOptions {
  /** The shell command the session runs. */
  readonly command: string;
  /** Environment of the tmux server, so of the command (over this process's, less TMUX and RAMPART_*). */
  readonly env: Readonly<Record<string, string>>;
  readonly columns?: number;
  readonly rows?: number;
}

const NOT_INSTALLED =
  'tmux is not installed, so the monitor cannot be run in a terminal. Install it with `apt-get install -y tmux` ' +
  '(Debian; .ci/run does it when tmux is missing).';

/**
 * A detached tmux session on a server of its own (`tmux -L <socket>`), running one command in a
 * pane of a fixed size: the test reads the screen (capture-pane) and types (send-keys) as a person
 * would. `kill` stops the server and everything in it.
 */
export class TmuxSession {
  private constructor(
    private readonly socket: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(socket: string, options: TmuxOptions): Promise<TmuxSession> {
    const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'TMUX' && !name.startsWith('RAMPART_')));
    const session = new TmuxSession(socket, { ...base, ...options.env });
    const size = ['-x', String(options.columns ?? 80), '-y', String(options.rows ?? 24)];
    await session.tmux('new-session', '-d', '-s', 'main', ...size, options.command);
    // The pane stays on screen when the command ends, for the test to read what it left.
    await session.tmux('set-option', '-t', 'main', 'remain-on-exit', 'on');
    return session;
  }

  /** The screen as text, one line per row (trailing spaces trimmed by tmux). */
  capture(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'main');
  }

  /** A tmux format of the pane (`#{alternate_on}`, `#{pane_title}`...). */
  async display(format: string): Promise<string> {
    return (await this.tmux('display-message', '-p', '-t', 'main', format)).trimEnd();
  }

  async sendKeys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** The screen once `condition` holds for it; fails with the last screen after `limitMs`. */
  async waitFor(condition: (screen: string) => boolean, limitMs = 10_000): Promise<string> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const screen = await this.capture();
      if (condition(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`the screen never met ${condition.toString()} within ${limitMs} ms; it shows:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }

  private tmux(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('tmux', ['-L', this.socket, ...args], { env: this.env, encoding: 'utf8' }, (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') reject(new Error(NOT_INSTALLED));
        else if (error) reject(new Error(`tmux ${args[0]} failed: ${stderr || error.message}`));
        else resolve(stdout);
      });
    });
  }
}
