import type { Command } from 'commander';
import { AdminClient, type ConnectionOptions } from './admin-client.js';

/** The admin API client of a command's global options (`--url`, `--key`, `--timeout` and their variables). */
export function adminClient(command: Command): AdminClient {
  return AdminClient.from(command.optsWithGlobals<ConnectionOptions>());
}

/** A ban or lift target: a range when the text has a `/` (unless `asKey`), a client key otherwise. */
export function banTarget(text: string, asKey = false): { key: string } | { cidr: string } {
  return text.includes('/') && !asKey ? { cidr: text } : { key: text };
}
