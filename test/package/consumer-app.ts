import { spawn } from 'node:child_process';

/** A consumer app running in a process of its own. */
export interface RunningApp {
  readonly url: string;
  /** The JSON lines the app printed so far. */
  facts(): unknown[];
  /**
   * SIGTERM, then waits for the process to end. Rejects when it does not end within 10 s, ends with
   * an error, or wrote anything to stderr (an error log, an unhandled rejection, a Node warning).
   */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Starts `node --import ./isolate.mjs <main>` in the installed app's folder and resolves once the
 * app prints `{"port": n}` (it listens on 127.0.0.1).
 */
export function startApp(dir: string, main: string, env: Record<string, string>): Promise<RunningApp> {
  const child = spawn(process.execPath, ['--import', './isolate.mjs', main], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const facts = () =>
    stdout
      .split('\n')
      .slice(0, -1) // the last line is not complete yet
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as unknown);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const describe = () => `${main} in ${dir}\nstdout:\n${stdout}\nstderr:\n${stderr}`;

  const stop = async () => {
    child.kill('SIGTERM');
    const ended = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), STOP_TIMEOUT_MS).unref())]);
    if (!ended) {
      child.kill('SIGKILL');
      throw new Error(`did not end within ${STOP_TIMEOUT_MS} ms of SIGTERM: ${describe()}`);
    }
    // Nest's shutdown hooks close the app, then end the process by the signal it received.
    if ((ended.signal !== 'SIGTERM' && ended.code !== 0) || stderr !== '') throw new Error(`ended with code ${String(ended.code)}: ${describe()}`);
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`reported no port within ${READY_TIMEOUT_MS} ms: ${describe()}`));
    }, READY_TIMEOUT_MS);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited before listening (code ${String(code)}, signal ${String(signal)}): ${describe()}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const ready = facts().find((fact): fact is { port: number } => typeof (fact as { port?: unknown }).port === 'number');
      if (!ready) return;
      clearTimeout(timer);
      resolve({ url: `http://127.0.0.1:${ready.port}`, facts, stop });
    });
  });
}
