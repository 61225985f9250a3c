import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { checkRateLimitOptions, type RateLimitConfig } from '../rate-limit.config.js';
import type { RateLimitModuleOptions } from '../rate-limit-options.interface.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import { checkConfigFileOption } from './config-file-check.js';
import type { ConfigFileSettings } from './config-file-options.js';
import { withEnvOverrides } from './env-overrides.js';
import type { StorageSpec } from './file-format.js';
import { loadConfigFile, type LoadedConfigFile } from './load-config-file.js';
import type { ResolvedRule } from '../engine/rule-resolution.js';
import { keyedByAlgorithm } from '../routes/route-table.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where the configuration in force came from: what a reload starts from again. */
export interface ConfigSource {
  /** The options given in code (`forRoot`, or `forRootAsync`'s factory). */
  readonly code: RateLimitModuleOptions;
  /** The environment overrides are read from. */
  readonly env: Env;
  readonly file?: ConfigFileSettings;
  /** The file as last loaded. */
  readonly loaded?: LoadedConfigFile;
}

/** The environment the `env` option names. */
export function environmentOf(option: RateLimitModuleOptions['env']): Env {
  return option === false ? {} : option === undefined || option === true ? process.env : option;
}

/**
 * The options in force: the code's, with the sections of a configuration file in their place
 * (`global.<setting>` as the option `<setting>`), then the environment's overrides. Problems of the
 * overrides are appended.
 */
export function mergedOptions(code: RateLimitModuleOptions, loaded: LoadedConfigFile | undefined, env: Env, problems: string[]): RateLimitModuleOptions {
  return withEnvOverrides({ ...code, ...loaded?.options }, env, problems);
}

/**
 * The module's configuration at startup: the configuration file (`configFile`, or the file
 * `RAMPART_CONFIG` names) read, its storage built, the environment's overrides applied, all of it
 * validated at once.
 *
 * @throws RateLimitConfigurationError listing every problem (a file's with their lines)
 */
export async function loadRateLimitConfig(code: RateLimitModuleOptions = {}): Promise<RateLimitConfig & { readonly source: ConfigSource }> {
  const env = environmentOf(code.env);
  const problems: string[] = [];
  const named = env.RAMPART_CONFIG ? { ...(typeof code.configFile === 'object' ? code.configFile : {}), path: env.RAMPART_CONFIG } : code.configFile;
  const file = checkConfigFileOption(named, code.env, problems);
  if (problems.length > 0) throw new RateLimitConfigurationError(problems);
  const loaded = file ? await loadConfigFile(file.path, { env }) : undefined;
  const options = mergedOptions(code, loaded, env, problems);
  const storage = loaded?.storage ? await buildStorage(loaded.storage, options) : undefined;
  // The file's storage replaces the code's, `type: memory` too (the default memory storage).
  const storageOption = loaded?.storage ? { storage } : {};
  const config = checkRateLimitOptions({ ...options, ...storageOption, configFile: named }, problems);
  if (problems.length > 0) {
    await storage?.close?.();
    throw new RateLimitConfigurationError(problems);
  }
  const source = Object.freeze({ code, env, ...(file ? { file } : {}), ...(loaded ? { loaded } : {}) });
  return Object.freeze({ ...config, ...(file ? { rules: keyedRules(config.rules) } : {}), source });
}

/**
 * With a configuration file, the module rules' store keys carry their algorithm (see
 * `keyedByAlgorithm`): a reload that changes a rule's algorithm starts it afresh.
 */
export function keyedRules<C>(rules: readonly ResolvedRule<C>[]): readonly ResolvedRule<C>[] {
  return Object.freeze(rules.map(keyedByAlgorithm));
}

/**
 * The storage a configuration file names, built from its own entry point (the optional peer it
 * needs is loaded only then). Its connection is Rampart's own, closed at shutdown.
 */
async function buildStorage(spec: StorageSpec, options: RateLimitModuleOptions): Promise<RampartStorage | undefined> {
  if (spec.type === 'memory') return undefined;
  const retention = options.violationRetentionMs === undefined ? {} : { violationRetentionMs: options.violationRetentionMs };
  if (spec.type === 'mongodb') {
    const { mongoStorage } = await import('../storage/mongo/index.js');
    return mongoStorage({ uri: spec.uri, ...(spec.collections ? { collections: spec.collections } : {}), ...retention });
  }
  const [{ redisStorage }, { Redis }] = await Promise.all([import('../storage/redis/index.js'), import('ioredis')]);
  const client = new Redis(spec.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  return redisStorage({ client, quitOnClose: true, ...(spec.prefix !== undefined ? { prefix: spec.prefix } : {}), ...retention });
}
