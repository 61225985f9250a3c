import type { ExecutionContext } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ADMIN_KEY, type AdminTestApp } from '../admin/admin.app.js';

/** The built CLI: `npm test` builds `dist/` first (pretest). */
export const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

/** Fails the suite at once, saying how to fix it, when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (\`npm test\` builds it through pretest).`);
}

export interface CliRun {
  /** The exit code (null when killed by a signal). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `rampart <args>` as a child process, asynchronously (the Jest process serves the app under
 * test meanwhile), with `env` over the environment less any RAMPART_* variable of the caller's.
 */
export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}, cwd?: string): Promise<CliRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RAMPART_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Listens on a free port of 127.0.0.1; the admin API's root URL. */
export async function listen(t: AdminTestApp, path = 'rate-limit'): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${port}/${path}`;
}

/** An app the CLI talks to, over a real connection. */
export interface CliTarget {
  /** The app, once the enclosing describe's beforeAll has started it. */
  readonly t: AdminTestApp;
  /** RAMPART_URL (its admin API on 127.0.0.1) and RAMPART_ADMIN_KEY. */
  readonly env: Readonly<Record<string, string>>;
  /** `rampart <args>` against it. */
  cli(...args: string[]): Promise<CliRun>;
}

/** Starts an app with `start`, listening, before the tests of the enclosing describe; closes it after them. */
export function cliTarget(start: () => Promise<AdminTestApp>): CliTarget {
  let app: AdminTestApp | undefined;
  let env: Record<string, string> = {};
  beforeAll(async () => {
    app = await start();
    env = { RAMPART_URL: await listen(app), RAMPART_ADMIN_KEY: ADMIN_KEY };
  });
  afterAll(() => app?.close());
  return {
    get t() {
      if (app === undefined) throw new Error('the app is started by beforeAll: use it within a test');
      return app;
    },
    get env() {
      return env;
    },
    cli: (...args) => runCli(args, env),
  };
}

/** A port of 127.0.0.1 nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A client key that tries to take over the terminal: set the window title (OSC), clear the screen,
 * recolour (CSI, 7-bit and 8-bit), and reorder the text (a bidirectional override).
 */
export const HOSTILE_KEY = '\u001b]0;pwned\u0007\u001b[2J\u001b[31mevil\u009b1m\u202ekey';

/** A key resolver: the identity of a request is its `?user=` when given, else its address. */
export const userFromQuery = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<{ query: Record<string, unknown> }>().query['user'] as string | undefined;

/** A control character (but the newline), or a bidirectional override, as a terminal would receive it: raw. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;
