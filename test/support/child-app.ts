import { spawn, type ChildProcess } from 'node:child_process';

/** An app running in a Node process of its own. */
export interface ChildApp {
  readonly child: ChildProcess;
  /** The port it printed (`ready <port>`). */
  readonly port: number;
  /** Settles once the process has exited. */
  readonly exited: Promise<unknown>;
}

/**
 * Starts `script` (an app on the built package) with `env` added to this process's environment, and
 * resolves once it prints `ready <port>`; rejects, with what it printed, if it exits before.
 */
export async function startChildApp(script: string, env: Record<string, string>): Promise<ChildApp> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const ready = /ready (\d+)/.exec(out);
        if (ready) resolve(Number(ready[1]));
      });
      child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready: ${out}`)));
    });
    return { child, port, exited };
  } catch (error) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw error;
  }
}
