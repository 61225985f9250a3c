import { createHash } from 'node:crypto';

/**
 * The one thing Rampart asks of a Redis client: run a Lua script. Every Redis store does all its
 * work through scripts, so any client that can send `EVALSHA` and `EVAL` fits (ioredis, a
 * `Cluster` of it, node-redis): `scriptClientOf` adapts them.
 */
export interface ScriptClient {
  /** `EVALSHA sha numkeys ...keys ...args`. */
  evalsha(sha: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** `EVAL source numkeys ...keys ...args` (which also caches the script on the server). */
  eval(source: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /**
   * The script (`EVALSHA` with `sha`, `EVAL` with `source`), then `WAIT replicas timeoutMs` on the
   * same connection, sent together: resolves with the script's reply and how many replicas have
   * its write. Absent for a client that cannot send them together (node-redis).
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

/** The methods of a node-redis client or cluster (v4 and later) that Rampart uses. */
export interface NodeRedisLike {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(source: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** What `redisStorage({ client })` accepts. */
export type RedisClientLike = IoredisLike | NodeRedisLike;

function isNodeRedis(client: RedisClientLike): client is NodeRedisLike {
  return typeof (client as Partial<NodeRedisLike>).evalSha === 'function';
}

/** Adapts an ioredis or node-redis client (or cluster). @throws TypeError for anything else. */
export function scriptClientOf(client: unknown, path = 'client'): ScriptClient {
  const candidate = client as Partial<IoredisLike & NodeRedisLike> | null | undefined;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.eval !== 'function') {
    throw new TypeError(
      `${path} must be an ioredis client or Cluster (new Redis(url)) or a node-redis client (createClient()), got ${client === null ? 'null' : typeof client}.`,
    );
  }
  if (isNodeRedis(candidate as RedisClientLike)) {
    const nodeRedis = candidate as NodeRedisLike;
    const strings = (args: readonly (string | number)[]) => args.map(String);
    return {
      evalsha: (sha, keys, args) => nodeRedis.evalSha(sha, { keys: [...keys], arguments: strings(args) }),
      eval: (source, keys, args) => nodeRedis.eval(source, { keys: [...keys], arguments: strings(args) }),
    };
  }
  if (typeof candidate.evalsha !== 'function') {
    throw new TypeError(`${path} must be an ioredis client or Cluster (new Redis(url)) or a node-redis client (createClient()): it has no evalsha method.`);
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
    try {
      return await client.evalsha(this.sha, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(this.source, keys, args);
    }
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
    return { reply: replies[0], acknowledged: replies[1] };
  }
}
