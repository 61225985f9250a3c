import { createHash } from 'node:crypto';

/**
 * The one thing Rampart asks of a Redis client: run a Lua script. Every Redis store does all its
 * work through scripts, sent by an ioredis `Redis` or `Cluster` (`scriptClientOf` adapts them).
 */
export interface ScriptClient {
  /** `EVALSHA sha numkeys ...keys ...args`. */
  evalsha(sha: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** `EVAL source numkeys ...keys ...args` (which also caches the script on the server). */
  eval(source: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /**
   * The script (`EVALSHA` with `sha`, `EVAL` with `source`), then `WAIT replicas timeoutMs` on the
   * same connection, sent together: resolves with the script's reply and how many replicas have
   * its write. Absent for a client that cannot send them together (no `pipeline`).
   */
  evalThenWait?(
    script: { sha: string } | { source: string },
    keys: readonly string[],
    args: readonly (string | number)[],
    wait: ReplicaWait,
  ): Promise<[unknown, number]>;
}

/**
 * Replicas a write must reach before it is reported done: Redis replicates asynchronously, so a
 * write its master acknowledged is lost if the master dies before a replica has it and a replica
 * takes over. `WAIT` after the write closes that gap.
 */
export interface ReplicaWait {
  /** How many replicas must have the write. */
  readonly replicas: number;
  /** Longest wait for them, in ms (a write not on enough replicas by then is reported as failed). */
  readonly timeoutMs: number;
}

/** The methods of an ioredis `Redis` or `Cluster` that Rampart uses. */
export interface IoredisLike {
  evalsha(sha: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  eval(source: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  /** Commands sent together on one connection (a Cluster's: the node of their keys). */
  pipeline?(commands: (string | number)[][]): { exec(): Promise<Array<[Error | null, unknown]> | null> };
}

/** What `redisStorage({ client })` accepts: an ioredis `Redis` or `Cluster`. */
export type RedisClientLike = IoredisLike;

/** The `keyPrefix` an ioredis `Redis` (`options`) or `Cluster` (`options.redisOptions`) adds to KEYS. */
function keyPrefixOf(client: { options?: { keyPrefix?: unknown; redisOptions?: { keyPrefix?: unknown } } }): unknown {
  return client.options?.keyPrefix || client.options?.redisOptions?.keyPrefix || undefined;
}

/**
 * Adapts an ioredis client or Cluster.
 *
 * @throws TypeError for anything else, and for a client with a `keyPrefix`: ioredis adds it to the
 *   keys a script is given but not to those it names itself, so the stores' scripts would miss
 *   their own keys (use `redisStorage`'s `prefix` instead).
 */
export function scriptClientOf(client: unknown, path = 'client'): ScriptClient {
  const candidate = client as (Partial<IoredisLike> & { evalSha?: unknown }) | null | undefined;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.eval !== 'function') {
    throw new TypeError(`${path} must be an ioredis client or Cluster (new Redis(url), new Cluster(nodes)), got ${client === null ? 'null' : typeof client}.`);
  }
  if (typeof candidate.evalsha !== 'function') {
    const kind = typeof candidate.evalSha === 'function' ? ': a node-redis client is not supported' : ': it has no evalsha method';
    throw new TypeError(`${path} must be an ioredis client or Cluster (new Redis(url), new Cluster(nodes))${kind}.`);
  }
  const keyPrefix = keyPrefixOf(candidate as Parameters<typeof keyPrefixOf>[0]);
  if (keyPrefix !== undefined) {
    throw new TypeError(
      `${path} has the ioredis option keyPrefix (${JSON.stringify(keyPrefix)}), which Lua scripts do not see for the keys they name themselves: give Rampart a client without it, and its prefix as redisStorage({ prefix }).`,
    );
  }
  const ioredis = candidate as IoredisLike;
  return {
    evalsha: (sha, keys, args) => ioredis.evalsha(sha, keys.length, ...keys, ...args),
    eval: (source, keys, args) => ioredis.eval(source, keys.length, ...keys, ...args),
    ...(typeof ioredis.pipeline === 'function' ? { evalThenWait: (script, keys, args, wait) => evalThenWait(ioredis, script, keys, args, wait) } : {}),
  };
}

/**
 * One ioredis pipeline: the script, then WAIT. A Cluster sends a pipeline to the node of its keys
 * (WAIT has none), so WAIT counts the replicas of the very connection that wrote.
 */
async function evalThenWait(
  ioredis: IoredisLike,
  script: { sha: string } | { source: string },
  keys: readonly string[],
  args: readonly (string | number)[],
  wait: ReplicaWait,
): Promise<[unknown, number]> {
  const run = 'sha' in script ? ['evalsha', script.sha] : ['eval', script.source];
  const replies = await ioredis.pipeline!([
    [...run, keys.length, ...keys, ...args],
    ['wait', wait.replicas, wait.timeoutMs],
  ]).exec();
  const [[scriptError, reply] = [null, undefined], [waitError, acknowledged] = [null, 0]] = replies ?? [];
  if (scriptError) throw scriptError;
  if (waitError) throw waitError;
  return [reply, Number(acknowledged)];
}

/**
 * A script's `return false` reaches a RESP2 connection as nil and a RESP3 one as `false` (ioredis's
 * `respMode: 'resp3'`): both read as `null`, which is what every script means by it.
 */
function noneOf(reply: unknown): unknown {
  return reply === false ? null : reply;
}

/** Whether `error` is Redis's answer to an `EVALSHA` of a script it does not have. */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * A Lua script run by `EVALSHA`: one round trip. A server that does not have it (first use, a
 * restart, `SCRIPT FLUSH`, a node that took over in a cluster) answers `NOSCRIPT`, and the script
 * is sent again with `EVAL`, which runs it and caches it there for the next `EVALSHA`.
 *
 * Every script is given at least one key, and all its keys are in one hash slot, so that a Redis
 * Cluster routes it to the node that holds them.
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: ScriptClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    let reply: unknown;
    try {
      reply = await client.evalsha(this.sha, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      reply = await client.eval(this.source, keys, args);
    }
    return noneOf(reply);
  }

  /**
   * Runs the script like `run`, then waits for `wait.replicas` replicas to have what it wrote (see
   * ReplicaWait): resolves with its reply and how many replicas have it (fewer than asked after
   * `wait.timeoutMs`).
   *
   * @throws TypeError when the client cannot send WAIT with the script (node-redis)
   */
  async runThenWait(
    client: ScriptClient,
    keys: readonly string[],
    args: readonly (string | number)[],
    wait: ReplicaWait,
  ): Promise<{ reply: unknown; acknowledged: number }> {
    if (client.evalThenWait === undefined) throw new TypeError(`waiting for replicas after a write needs an ioredis client or Cluster (${this.name}).`);
    let replies: [unknown, number];
    try {
      replies = await client.evalThenWait({ sha: this.sha }, keys, args, wait);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      replies = await client.evalThenWait({ source: this.source }, keys, args, wait);
    }
    return { reply: noneOf(replies[0]), acknowledged: replies[1] };
  }
}
