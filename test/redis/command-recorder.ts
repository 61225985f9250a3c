/**
 * Records the commands one client sends to Redis, as the server sees them (MONITOR), without the
 * commands of other clients (other spec files run on the same server) or those scripts run.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface CommandRecorder {
  /** The names of the commands recorded so far, lower case, in order. */
  readonly commands: string[];
  /** Resolves once every command the client sent before has been recorded. */
  settle(): Promise<void>;
  /** Stops recording (closes the MONITOR connection). */
  stop(): void;
}

/** Starts recording the commands of `client`; `monitorOf` is any other client to the same server. */
export async function recordCommands(client: Redis, monitorOf: Redis): Promise<CommandRecorder> {
  const info = String(await client.client('INFO'));
  const address = /\baddr=(\S+)/.exec(info)?.[1];
  if (address === undefined) throw new Error(`CLIENT INFO gave no address: ${info}`);
  const monitor = await monitorOf.monitor();
  const commands: string[] = [];
  const markers = new Map<string, () => void>();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== address) return;
    const name = args[0].toLowerCase();
    const marker = name === 'echo' ? markers.get(args[1]) : undefined;
    if (marker) marker();
    else commands.push(name);
  });
  return {
    commands,
    async settle() {
      // MONITOR shows commands in the order the server ran them: once the marker is seen, so is
      // everything the client sent before it.
      const marker = `settle-${randomBytes(6).toString('hex')}`;
      const seen = new Promise<void>((resolve) => markers.set(marker, resolve));
      await client.echo(marker);
      await seen;
      markers.delete(marker);
    },
    stop: () => monitor.disconnect(),
  };
}
