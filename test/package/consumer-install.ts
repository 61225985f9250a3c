/**
 * Installs the consumer apps of test/package/consumers/ into .cache/consumers/<app>/, from the packed
 * package, the way an app installs it: `npm install`, without --legacy-peer-deps.
 *
 * An install is reused while its key holds: the app's package.json (its pinned dependencies) and the
 * tarball's hash. A new tarball only reinstalls the package itself: the app's dependency then names
 * the new tarball file, and npm replaces that one package in the installed tree.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Bump when the install procedure changes, so that every cached install is redone. */
const INSTALL_FORMAT = 1;
const KEY_FILE = '.install-key.json';

const root = join(__dirname, '..', '..');
const fixtures = join(__dirname, 'consumers');
export const consumersCache = join(root, '.cache', 'consumers');

interface InstallKey {
  readonly format: number;
  readonly dependencies: string;
  readonly tarball: string;
}

export interface Tarball {
  /** Absolute path, named after its content: `nest-rampart-<sha256 prefix>.tgz`. */
  readonly path: string;
  readonly hash: string;
}

export interface InstalledApp {
  readonly dir: string;
  /** What the install did: `full` (dependencies changed or first time), `package` (new tarball only), `reused`. */
  readonly install: 'full' | 'package' | 'reused';
  readonly seconds: number;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** `npm pack` of the built package (dist/ must exist), into the cache under a name that is its hash. */
export async function packTarball(): Promise<Tarball> {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first).');
  mkdirSync(consumersCache, { recursive: true });
  const scratch = mkdtempSync(join(consumersCache, 'pack-'));
  try {
    const out = await npm(['pack', '--json', '--pack-destination', scratch], root);
    const [{ filename }] = JSON.parse(out) as [{ filename: string }];
    const hash = sha256(readFileSync(join(scratch, filename)));
    const path = join(consumersCache, `nest-rampart-${hash.slice(0, 16)}.tgz`);
    renameSync(join(scratch, filename), path);
    return { path, hash };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Tarballs of earlier builds, which no install refers to any more once every app is installed. */
export function removeOtherTarballs(keep: Tarball): void {
  for (const name of readdirSync(consumersCache)) {
    if (/^nest-rampart-[0-9a-f]{16}\.tgz$/.test(name) && join(consumersCache, name) !== keep.path) rmSync(join(consumersCache, name));
  }
}

/**
 * Installs (or reuses) `app` (its package.json) with `tarball`, then copies the sources of `sources`
 * (default: the app's own folder) over it: they are not part of the key, they are read at every run.
 */
export async function installApp(app: string, tarball: Tarball, sources = app): Promise<InstalledApp> {
  const began = Date.now();
  const source = join(fixtures, app);
  const dir = join(consumersCache, app);
  const manifestText = readFileSync(join(source, 'package.json'), 'utf8');
  const key: InstallKey = { format: INSTALL_FORMAT, dependencies: sha256(manifestText), tarball: tarball.hash };
  const previous = readKey(dir);

  let install: InstalledApp['install'] = 'reused';
  if (previous?.format !== key.format || previous.dependencies !== key.dependencies || !existsSync(join(dir, 'node_modules'))) {
    install = 'full';
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  } else if (previous.tarball !== key.tarball) {
    install = 'package';
  }
  if (install !== 'reused') {
    // Until npm succeeds the installed tree is in doubt: the next run installs the package again.
    if (install === 'package') writeFileSync(join(dir, KEY_FILE), `${JSON.stringify({ ...key, tarball: 'pending' })}\n`);
    const manifest = JSON.parse(manifestText) as { dependencies: Record<string, string> };
    manifest.dependencies['nest-rampart'] = `file:../${tarball.path.slice(consumersCache.length + 1)}`;
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // Explicitly not --legacy-peer-deps, whatever the user's npm configuration says: the point of
    // these apps is that Rampart's peer ranges accept their versions.
    await npm(['install', '--legacy-peer-deps=false', '--no-audit', '--no-fund', '--prefer-offline'], dir);
    writeFileSync(join(dir, KEY_FILE), `${JSON.stringify(key)}\n`);
  }
  for (const name of readdirSync(join(fixtures, sources))) {
    if (name !== 'package.json') cpSync(join(fixtures, sources, name), join(dir, name));
  }
  cpSync(join(fixtures, 'isolate.mjs'), join(dir, 'isolate.mjs'));
  return { dir, install, seconds: (Date.now() - began) / 1000 };
}

function readKey(dir: string): InstallKey | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, KEY_FILE), 'utf8')) as InstallKey;
  } catch {
    return undefined;
  }
}

/** Runs npm; resolves with its stdout, rejects with its whole output. */
function npm(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`npm ${args.join(' ')} (in ${cwd}) exited with ${String(code)}:\n${stdout}\n${stderr}`));
    });
  });
}
