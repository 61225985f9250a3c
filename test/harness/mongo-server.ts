/**
 * Starts a MongoDB wire-protocol stand-in (mongo-java-server, run by test/mongo-server/MongoStandIn.java)
 * for tests, benchmarks and demos on machines without a MongoDB server. Needs Java 17+ (a JDK: the
 * launcher is run as a single-file source program) and, the first time, Maven to fetch the jars.
 *
 * Free of Jest on purpose: plain Node APIs only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** `memory` keeps nothing; `h2:<file>` keeps the data in an H2 MVStore file across restarts. */
export type MongoStandInBackend = 'memory' | `h2:${string}`;

export interface EnsureJarsOptions {
  /** Repository root; found by walking up from the current directory when omitted. */
  root?: string;
  /** Progress messages (the first fetch can take a while). Defaults to none. */
  log?: (message: string) => void;
  /** Limit for the Maven run, in ms. Default 5 minutes. */
  timeoutMs?: number;
}

export interface StartMongoStandInOptions extends EnsureJarsOptions {
  /** Default `memory`. */
  backend?: MongoStandInBackend;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** How long to wait for `LISTENING`, in ms. Default 30 s. */
  startTimeoutMs?: number;
  /**
   * JVM options. The default trades peak speed for a faster start (C1 only, serial GC), which suits
   * tests; pass `[]` for a long benchmark.
   */
  jvmArgs?: string[];
  /** Receives the server's stderr lines after start (before start they go into error messages). */
  onStderr?: (line: string) => void;
}

export interface MongoStandIn {
  /** `mongodb://127.0.0.1:<port>` (no database: pass `dbName` when connecting). */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly backend: MongoStandInBackend;
  /**
   * Stops the server and resolves once the process has exited. The default (SIGTERM) shuts it down
   * cleanly, flushing an H2 file; `{ signal: 'SIGKILL' }` simulates a crash (an H2 file then misses
   * roughly the last second of writes). Safe to call twice.
   */
  stop(options?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
}

export class MongoStandInError extends Error {
  override name = 'MongoStandInError';
}

const SERVER_DIR = join('test', 'mongo-server');
const POM = join(SERVER_DIR, 'pom.xml');
const LAUNCHER = join(SERVER_DIR, 'MongoStandIn.java');
const STAMP = '.pom.sha256';
const DEFAULT_JVM_ARGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
const INSTALL_JAVA = 'install a JDK 17+ (Debian/Ubuntu: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME';
const INSTALL_MAVEN = 'install Maven (Debian/Ubuntu: apt-get install maven)';
const OR_REAL_MONGO = 'or point MONGO_URL at a running MongoDB';

/** True when running under CI: `CI` is set to anything but '', '0' or 'false'. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env['CI']?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** Finds the repository root: the nearest directory above `from` that holds test/mongo-server/pom.xml. */
export function findRepoRoot(from: string = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, POM))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new MongoStandInError(`cannot find ${POM} in ${from} or any directory above it`);
    }
    dir = parent;
  }
}

/** The mongo-java-server version the pom asks for (it names the cache folder). */
export async function mongoJavaServerVersion(root: string = findRepoRoot()): Promise<string> {
  const pom = await readFile(join(root, POM), 'utf8');
  const match = /<mongo-java-server\.version>\s*([^<\s]+)\s*<\/mongo-java-server\.version>/.exec(pom);
  if (!match?.[1]) throw new MongoStandInError(`no <mongo-java-server.version> property in ${join(root, POM)}`);
  return match[1];
}

/**
 * Makes sure `.cache/mongo-java-server/<version>/` holds every jar the launcher needs, running Maven once
 * (again only if the pom changes). Returns that folder.
 */
export async function ensureJars(options: EnsureJarsOptions = {}): Promise<string> {
  const root = options.root ?? findRepoRoot();
  const pomPath = join(root, POM);
  const pomHash = createHash('sha256')
    .update(await readFile(pomPath))
    .digest('hex');
  const version = await mongoJavaServerVersion(root);
  const cacheParent = join(root, '.cache', 'mongo-java-server');
  const jarDir = join(cacheParent, version);

  if (await isComplete(jarDir, pomHash)) return jarDir;

  // Fetch into a private folder and rename it into place, so a concurrent or interrupted run never
  // leaves a half-filled folder that looks complete.
  await mkdir(cacheParent, { recursive: true });
  const staging = join(cacheParent, `.${version}.${process.pid}.${randomBytes(4).toString('hex')}`);
  options.log?.(`fetching mongo-java-server ${version} jars with Maven into ${jarDir} ...`);
  const started = Date.now();
  try {
    const result = await run('mvn', ['-q', '-B', '-f', pomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`], {
      cwd: root,
      timeoutMs: options.timeoutMs ?? 5 * 60_000,
    });
    if (result.error?.code === 'ENOENT') {
      throw new MongoStandInError(`Maven (mvn) is not on PATH, and it is needed once to fetch the mongo-java-server jars: ${INSTALL_MAVEN}, ${OR_REAL_MONGO}`);
    }
    if (result.timedOut) {
      throw new MongoStandInError(
        `Maven did not finish fetching the mongo-java-server jars within ${(options.timeoutMs ?? 300_000) / 1000} s (is Maven Central reachable?)\n${tail(result.output)}`,
      );
    }
    if (result.error || result.code !== 0) {
      throw new MongoStandInError(
        `Maven failed to fetch the mongo-java-server jars (${result.error?.message ?? `exit code ${result.code}`}); ` +
          `if it cannot find Java, ${INSTALL_JAVA}\n${tail(result.output)}`,
      );
    }
    const jars = (await readdir(staging)).filter((name) => name.endsWith('.jar'));
    if (!jars.some((name) => name.startsWith('mongo-java-server-core-'))) {
      throw new MongoStandInError(`Maven ran but ${staging} holds no mongo-java-server-core jar (found: ${jars.join(', ') || 'nothing'})`);
    }
    await writeFile(join(staging, STAMP), pomHash + '\n');
    if (await isComplete(jarDir, pomHash)) return jarDir; // another process won the race
    await rm(jarDir, { recursive: true, force: true });
    await rename(staging, jarDir);
    options.log?.(`fetched ${jars.length} jars in ${Date.now() - started} ms`);
    return jarDir;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Starts the stand-in and resolves once it accepts connections. Rejects with a MongoStandInError that
 * says what to install when Java or Maven is missing, or when the server does not start in time.
 */
export async function startMongoStandIn(options: StartMongoStandInOptions = {}): Promise<MongoStandIn> {
  const root = options.root ?? findRepoRoot();
  const backend: MongoStandInBackend = options.backend ?? 'memory';
  const port = options.port ?? 0;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const jarDir = await ensureJars(options);
  const java = process.env['JAVA_HOME'] ? join(process.env['JAVA_HOME'], 'bin', 'java') : 'java';

  const child = spawn(java, [...(options.jvmArgs ?? DEFAULT_JVM_ARGS), '-cp', join(jarDir, '*'), join(root, LAUNCHER), String(port), backend], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // The server exits when its stdin closes, so it cannot outlive this process; never write to it.
  child.stdin.on('error', () => undefined);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  let stderrTail = '';
  let started = false;
  forEachLine(child.stderr, (line) => {
    if (started && options.onStderr) options.onStderr(line);
    else if (!started) stderrTail = (stderrTail + line + '\n').slice(-4000);
  });

  const boundPort = await new Promise<number>((resolvePort, reject) => {
    const fail = (message: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new MongoStandInError(message));
    };
    const timer = setTimeout(() => {
      fail(
        `the MongoDB stand-in did not print LISTENING within ${startTimeoutMs} ms (backend ${backend}, port ${port}); ` +
          `it needs a JDK 17+ (${INSTALL_JAVA}), ${OR_REAL_MONGO}` +
          detail(stderrTail),
      );
    }, startTimeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        fail(`Java is not available (could not run '${java}'): ${INSTALL_JAVA}, ${OR_REAL_MONGO}`);
      } else {
        fail(`could not run '${java}': ${error.message}`);
      }
    });
    child.once('exit', (code, signal) => {
      if (started) return;
      // 2 = bad arguments, 3 = could not bind or open the backend (see MongoStandIn.java); anything
      // else is the java launcher failing, e.g. a JRE without the compiler or a Java older than 11.
      if (code === 2) fail(`the MongoDB stand-in rejected its arguments (backend ${backend}, port ${port})` + detail(stderrTail));
      else if (code === 3) fail(`the MongoDB stand-in could not start (backend ${backend}, port ${port})` + detail(stderrTail));
      else {
        fail(
          `the MongoDB stand-in exited before it was listening (${signal ?? `exit code ${code}`}); ` +
            `it needs a JDK 17+, not just a JRE (${INSTALL_JAVA}), ${OR_REAL_MONGO}` +
            detail(stderrTail),
        );
      }
    });
    forEachLine(child.stdout, (line) => {
      const match = /^LISTENING (\d+)$/.exec(line.trim());
      if (match && !started) {
        started = true;
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    url: `mongodb://127.0.0.1:${boundPort}`,
    port: boundPort,
    pid: child.pid ?? -1,
    backend,
    stop(stopOptions = {}) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill(stopOptions.signal ?? 'SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        child.stdin.destroy();
        child.stdout.destroy();
        child.stderr.destroy();
      })();
      return stopping;
    },
  };
}

async function isComplete(jarDir: string, pomHash: string): Promise<boolean> {
  try {
    return (await readFile(join(jarDir, STAMP), 'utf8')).trim() === pomHash;
  } catch {
    return false;
  }
}

interface RunResult {
  code: number | null;
  output: string;
  error?: NodeJS.ErrnoException;
  timedOut: boolean;
}

function run(command: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolveRun) => {
    let output = '';
    let timedOut = false;
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      resolveRun({ code: null, output, error: error as NodeJS.ErrnoException, timedOut });
      return;
    }
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolveRun({ code: null, output, error, timedOut });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output, timedOut });
    });
  });
}

function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
    }
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
    pending = '';
  });
}

function detail(stderr: string): string {
  const text = stderr.trim();
  return text ? `:\n${text}` : '';
}

function tail(text: string, lines = 30): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}
