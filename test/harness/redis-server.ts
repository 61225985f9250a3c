/**
 * Starts real Redis servers (`redis-server` from PATH, Debian's `redis-server` package) on free
 * loopback ports for tests, benchmarks and demos: one server, or a cluster of masters and replicas
 * made by `redis-cli --cluster create`.
 *
 * Free of Jest on purpose: plain Node APIs only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How to get Redis, for error messages. */
export const REDIS_FIX = "install Debian's redis-server package (apt-get install redis-server; .ci/run does it), or set REDIS_URL to a running Redis";

export class RedisServerError extends Error {
  override name = 'RedisServerError';
}

export interface StartRedisOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Keep data across a stop and a start of the same server (an append-only file, fsync'ed on every write). */
  persist?: boolean;
  /** More `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: readonly string[];
  /** How long to wait for the server to accept connections, in ms. @default 10 000 */
  startTimeoutMs?: number;
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The running process's pid (changes after `start`). */
  readonly pid: number | undefined;
  /** Stops the server; SIGKILL simulates a crash. Resolves when the process has exited. Safe to call twice. */
  stop(options?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  /** Starts it again on the same port and data directory (after `stop`). */
  start(): Promise<void>;
  /** Stops it and deletes its data directory. */
  dispose(): Promise<void>;
}

/**
 * Ports the harness picks from: below the kernel's ephemeral range (32768–60999 on Linux by
 * default), so that no outgoing connection's local port can take one between the moment it is
 * found free and the moment a server binds it (a server a test starts later on a port it reserved).
 */
const PORT_RANGE = { from: 20_000, to: 32_767 };

/** Whether `port` can be bound on 127.0.0.1 right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port in `PORT_RANGE` that is free (with `alsoFree(port)` free too), at random. */
async function pickPort(alsoFree: (port: number) => number | undefined = () => undefined, to = PORT_RANGE.to): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (to - PORT_RANGE.from + 1));
    const other = alsoFree(port);
    if ((await portFree(port)) && (other === undefined || (await portFree(other)))) return port;
  }
  throw new Error(`no free port between ${PORT_RANGE.from} and ${to} in 200 attempts`);
}

/** A free TCP port on 127.0.0.1, outside the ephemeral range (free when asked: another server may still bind it meanwhile). */
export function freePort(): Promise<number> {
  return pickPort();
}

/**
 * A free port whose cluster bus port (the port + 10 000, which a cluster node listens on too) is free
 * as well, both outside the ephemeral range.
 */
export function freeClusterPort(): Promise<number> {
  return pickPort((port) => port + 10_000, PORT_RANGE.to - 10_000);
}

/** Runs `file` with `args`; resolves with its stdout, rejects with its stderr (or why it could not run). */
export function run(file: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error)
        reject(
          new RedisServerError(
            `${file} ${args.join(' ')} failed: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} is not installed: ${REDIS_FIX}` : `${error.message}\n${stderr || stdout}`}`,
          ),
        );
      else resolve(stdout);
    });
  });
}

/** Sends one inline command and resolves with the first reply line (enough for PING and readiness). */
export function redisCommand(port: number, command: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(new Error(`no answer to ${command} within ${timeoutMs} ms`)), timeoutMs);
    let reply = '';
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      const end = reply.indexOf('\r\n');
      if (end >= 0) {
        clearTimeout(timer);
        socket.end();
        resolve(reply.slice(0, end));
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Starts one `redis-server` on a free loopback port with a data directory of its own. */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = options.port || (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'rampart-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.persist ? 'yes' : 'no',
    ...(options.persist ? ['--appendfsync', 'always'] : []),
    '--protected-mode',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.args ?? []),
  ];
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    const output: string[] = [];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let failed: Error | undefined;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.once('error', (error: NodeJS.ErrnoException) => {
      failed = new RedisServerError(error.code === 'ENOENT' ? `redis-server is not installed: ${REDIS_FIX}` : `redis-server could not start: ${error.message}`);
    });
    proc.once('exit', (code) => (failed ??= new RedisServerError(`redis-server exited with code ${String(code)} before it was ready:\n${output.join('')}`)));
    proc.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    proc.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (failed) throw failed;
      try {
        if ((await redisCommand(port, 'PING', 500)) === '+PONG') return;
      } catch {
        // not listening yet (or still loading its data)
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new RedisServerError(`redis-server on port ${port} was not ready within ${startTimeoutMs} ms:\n${output.join('')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function stop(stopOptions: { signal?: 'SIGTERM' | 'SIGKILL' } = {}): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill(stopOptions.signal ?? 'SIGTERM');
    await exited;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid;
    },
    stop,
    start,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisCluster {
  /** Every node, masters first (as `redis-cli --cluster create` was given them). */
  readonly nodes: readonly RedisServer[];
  /** `{ host, port }` of every node, for `new Cluster(startupNodes)`. */
  readonly startupNodes: readonly { host: string; port: number }[];
  /** The node serving `slot` as master now (asks the cluster). */
  masterOf(slot: number): Promise<RedisServer>;
  /** The nodes replicating `master` now (asks the cluster). */
  replicasOf(master: RedisServer): Promise<RedisServer[]>;
  /** Stops every node and deletes their data. */
  dispose(): Promise<void>;
}

/**
 * Starts `masters` masters and one replica each (`--cluster-enabled yes`), joins them with
 * `redis-cli --cluster create --cluster-replicas 1`, and waits until the cluster reports `ok`.
 */
export async function startRedisCluster(options: { masters?: number; nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < masters * 2; i++) {
      nodes.push(
        await startRedisServer({
          port: await freeClusterPort(),
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            String(options.nodeTimeoutMs ?? 1_000),
            // Redis waits 5 s by default before a replica's first full sync, in case more replicas come.
            '--repl-diskless-sync-delay',
            '0',
          ],
        }),
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(nodes.map((n) => run('redis-cli', ['-p', String(n.port), 'cluster', 'info']).catch(() => '')));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new RedisServerError(`the Redis cluster did not reach cluster_state:ok within 20 s:\n${states.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // A replica that has never synchronised with its master cannot take over from it: wait for every
    // replication link (the first full sync starts at once, with --repl-diskless-sync-delay 0).
    for (;;) {
      const replication = await Promise.all(nodes.map((n) => run('redis-cli', ['-p', String(n.port), 'info', 'replication']).catch(() => '')));
      const waiting = replication.filter((r) => !r.includes('role:master') && !r.includes('master_link_status:up'));
      if (waiting.length === 0) break;
      if (Date.now() > deadline) throw new RedisServerError(`the Redis cluster's replicas did not synchronise within 20 s:\n${waiting.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // And every master knows its replica (CLUSTER NODES, which `replicasOf` reads, learns it by gossip,
    // possibly after the link is up): "<id> <ip:port@cport> <flags> <master id or -> ...".
    for (;;) {
      const views = await Promise.all(nodes.map((n) => run('redis-cli', ['-p', String(n.port), 'cluster', 'nodes']).catch(() => '')));
      const lonely = views.filter((view) => {
        const lines = view.split('\n').map((l) => l.split(' '));
        const me = lines.find((fields) => fields[2]?.split(',').includes('myself'));
        return me !== undefined && me[2]!.split(',').includes('master') && !lines.some((fields) => fields[3] === me[0]);
      });
      if (lonely.length === 0) break;
      if (Date.now() > deadline) throw new RedisServerError(`a Redis cluster master did not learn of its replica within 20 s:\n${lonely.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.dispose()));
    throw error;
  }
  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    async masterOf(slot: number) {
      for (const node of nodes) {
        const out = await run('redis-cli', ['-p', String(node.port), 'cluster', 'shards']).catch(() => undefined);
        if (out === undefined) continue;
        const lines = out.split('\n').map((l) => l.trim());
        // CLUSTER SHARDS: per shard, "slots" then start/end pairs, then "nodes" with port and role.
        for (let i = 0; i < lines.length; i++) {
          if (lines[i] !== 'slots') continue;
          const ranges: number[] = [];
          let j = i + 1;
          while (j < lines.length && /^\d+$/.test(lines[j]!)) ranges.push(Number(lines[j++]));
          let covers = false;
          for (let k = 0; k + 1 < ranges.length; k += 2) if (slot >= ranges[k]! && slot <= ranges[k + 1]!) covers = true;
          if (!covers) continue;
          // Walk this shard's nodes for the master's port.
          let port: number | undefined;
          for (; j < lines.length && lines[j] !== 'slots'; j++) {
            if (lines[j] === 'port') port = Number(lines[j + 1]);
            if (lines[j] === 'role' && lines[j + 1] === 'master' && port !== undefined) {
              const master = nodes.find((n) => n.port === port);
              if (master) return master;
            }
          }
        }
        break;
      }
      throw new RedisServerError(`no master serves slot ${slot}`);
    },
    async replicasOf(master: RedisServer) {
      // CLUSTER NODES: "<id> <ip:port@cport> <flags> <master id or -> ...", one line per node.
      const lines = (await run('redis-cli', ['-p', String(master.port), 'cluster', 'nodes'])).split('\n').map((l) => l.split(' '));
      const id = lines.find((fields) => fields[2]?.split(',').includes('myself'))?.[0];
      const ports = lines.filter((fields) => id !== undefined && fields[3] === id).map((fields) => Number(/:(\d+)@/.exec(fields[1] ?? '')?.[1]));
      return nodes.filter((n) => ports.includes(n.port));
    },
    async dispose() {
      await Promise.all(nodes.map((n) => n.dispose()));
    },
  };
}

/** One command a server ran, as `MONITOR` streams it. */
export interface MonitoredCommand {
  readonly args: string[];
}

/** Reads the quoted arguments of a `MONITOR` line: `+1700000000.1 [0 127.0.0.1:5000] "evalsha" "ab" "1"`. */
function monitorArgs(line: string): string[] {
  const args: string[] = [];
  const quoted = /"((?:[^"\\]|\\.)*)"/g;
  for (let match = quoted.exec(line); match; match = quoted.exec(line)) {
    args.push(
      match[1]!.replace(/\\x([0-9a-f]{2})|\\(.)/gi, (_, hex: string | undefined, c: string) =>
        hex ? String.fromCharCode(parseInt(hex, 16)) : c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c,
      ),
    );
  }
  return args;
}

/**
 * `MONITOR` on a socket of its own (no client library: a plain RESP exchange), calling `onCommand`
 * for every command the server runs until `stop()`. Resolves once the server confirmed monitoring.
 */
export function monitorServer(port: number, onCommand: (command: MonitoredCommand) => void): Promise<{ stop(): void }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buffer = '';
    let confirmed = false;
    socket.once('error', reject);
    socket.once('connect', () => socket.write('MONITOR\r\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let end = buffer.indexOf('\r\n');
      while (end >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!confirmed && line === '+OK') {
          confirmed = true;
          resolve({ stop: () => socket.destroy() });
        } else if (confirmed) onCommand({ args: monitorArgs(line) });
        end = buffer.indexOf('\r\n');
      }
    });
  });
}
