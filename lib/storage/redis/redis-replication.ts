import { describe } from '../../errors/describe.js';
import type { RedisScript, ReplicaWait, ScriptClient } from './redis-script.js';

/**
 * A write Redis made, of which fewer replicas than `waitForReplicas.replicas` had a copy within its
 * `timeoutMs`. Like MongoDB's write concern error, the write is not undone: it is in force on the
 * master, but a failover before a replica has it would lose it.
 */
export class RedisReplicationError extends Error {
  override name = 'RedisReplicationError';

  constructor(
    /** What was written (`the ban of key:203.0.113.7`). */
    readonly what: string,
    /** Replicas that had it in time. */
    readonly acknowledged: number,
    readonly wait: ReplicaWait,
  ) {
    super(
      `${what} was written on the Redis master, but ${acknowledged} of the ${wait.replicas} replica(s) waitForReplicas asks for had it within ${wait.timeoutMs} ms: a failover now could lose it. ` +
        'Check that the replicas are up and in sync (INFO replication), then read it back and write it again if needed; or raise waitForReplicas.timeoutMs.',
    );
  }
}

/** Checks a `waitForReplicas` option: undefined, or a positive number of replicas and of milliseconds. */
export function checkReplicaWait(value: unknown, path: string): ReplicaWait | undefined {
  if (value === undefined) return undefined;
  const wait = value as Partial<ReplicaWait> | null;
  if (typeof wait !== 'object' || wait === null) throw new TypeError(`${path} must be { replicas, timeoutMs }, got ${describe(value)}.`);
  if (typeof wait.replicas !== 'number' || !Number.isInteger(wait.replicas) || wait.replicas < 1) {
    throw new RangeError(`${path}.replicas must be a positive integer, got ${describe(wait.replicas)}.`);
  }
  if (typeof wait.timeoutMs !== 'number' || !Number.isInteger(wait.timeoutMs) || wait.timeoutMs < 1) {
    throw new RangeError(`${path}.timeoutMs must be a positive integer (milliseconds; WAIT with 0 waits forever), got ${describe(wait.timeoutMs)}.`);
  }
  return { replicas: wait.replicas, timeoutMs: wait.timeoutMs };
}

/**
 * Runs a script that writes, and with `wait` waits until that many replicas have what it wrote
 * (see ReplicaWait). Resolves with the script's reply.
 *
 * @throws RedisReplicationError when the script wrote (`wrote(reply)`) and too few replicas had it in time
 */
export async function writeWithReplicas(
  script: RedisScript,
  client: ScriptClient,
  keys: readonly string[],
  args: readonly (string | number)[],
  wait: ReplicaWait | undefined,
  written: { readonly what: string; wrote(reply: unknown): boolean },
): Promise<unknown> {
  if (wait === undefined) return script.run(client, keys, args);
  const { reply, acknowledged } = await script.runThenWait(client, keys, args, wait);
  if (acknowledged < wait.replicas && written.wrote(reply)) throw new RedisReplicationError(written.what, acknowledged, wait);
  return reply;
}
