import { parseDuration } from '../core/duration.js';
import { isObject } from '../core/option-objects.js';
import * as configMessages from '../errors/config-file-messages.js';
import type { RateLimitModuleOptions } from '../rate-limit-options.interface.js';

/** The sections of a configuration file. */
export const FILE_KEYS = ['version', 'global', 'storage', 'rules', 'routes', 'groups', 'excludePaths', 'escalation', 'websockets', 'ddos'] as const;

/** The module options a file's `global` section may set (the others are code: functions, objects). */
export const GLOBAL_KEYS = [
  'enabled',
  'shadow',
  'trustProxy',
  'ipv6PrefixLength',
  'standardHeaders',
  'legacyHeaders',
  'enforceBans',
  'onStoreError',
  'storeFallback',
  'storeTimeoutMs',
  'storeProbeIntervalMs',
  'storeStartupTimeoutMs',
  'requireStore',
  'storeBreaker',
  'denialCacheSize',
  'leaseMs',
  'banSyncIntervalMs',
  'maxCachedBans',
  'violationRetentionMs',
  'autoBanDurationMs',
  'errorMessage',
  'stats',
  'logging',
  'alerts',
  'memoryStore',
] as const;

/** What a reload applies; the other settings take effect at the next start. */
export const RELOADABLE_KEYS = ['rules', 'routes', 'excludePaths', 'groups', 'escalation', 'global.enabled'] as const;

/** Where a file keeps Rampart's state: the app's storage is built from it at startup. */
export type StorageSpec =
  | { readonly type: 'memory' }
  | { readonly type: 'mongodb'; readonly uri: string; readonly collections?: Record<string, string> }
  | { readonly type: 'redis'; readonly url: string; readonly prefix?: string };

const STORAGE_FIELDS: Record<StorageSpec['type'], readonly string[]> = {
  memory: ['type'],
  mongodb: ['type', 'uri', 'collections'],
  redis: ['type', 'url', 'prefix'],
};

/**
 * Durations written with a unit (`500ms`, `30s`, `15m`, `1h`, `7d`, `1w`) as milliseconds, for every
 * key that ends in `Ms`, at any depth. Other text is left as it is, for validation to name.
 */
export function withDurations(value: unknown, key = '', within: readonly object[] = []): unknown {
  if (Array.isArray(value) || isObject(value)) {
    // An alias inside the value it names (`rules: &a [*a]`) makes a cycle no option can hold.
    if (within.includes(value)) throw new ConfigCycleError();
    const path = [...within, value];
    if (Array.isArray(value)) return value.map((item) => withDurations(item, '', path));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withDurations(v, k, path)]));
  }
  if (typeof value === 'string' && key.endsWith('Ms')) return parseDuration(value) ?? value;
  return value;
}

/** A configuration whose aliases make a cycle. */
export class ConfigCycleError extends Error {
  constructor() {
    super('an alias refers back to a value that holds it (a cycle), which no setting can be');
  }
}

/** A problem about the file, and the path of the value it is about. */
export interface FileProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * The module options a configuration file sets, its storage, and the problems of its shape
 * (unknown sections and settings, a storage that cannot be built). The options themselves are
 * validated afterwards, by the module's own validation.
 *
 * @param env where `${NAME}` in the storage's `uri` or `url` is read from
 */
export function fileOptions(
  data: unknown,
  env: Readonly<Record<string, string | undefined>>,
): { options: RateLimitModuleOptions; storage?: StorageSpec; problems: FileProblem[] } {
  const problems: FileProblem[] = [];
  if (!isObject(data)) return { options: {}, problems: [{ path: [], message: configMessages.notAMapping(data) }] };
  const file = withDurations(data) as Record<string, unknown>;
  for (const key of Object.keys(file)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) problems.push({ path: [key], message: configMessages.unknownSection(key, FILE_KEYS) });
  }
  if (file.version !== undefined && file.version !== 1) problems.push({ path: ['version'], message: configMessages.badVersion(file.version) });
  const options: Record<string, unknown> = {};
  for (const key of ['rules', 'routes', 'groups', 'excludePaths', 'escalation', 'websockets', 'ddos'] as const)
    if (file[key] !== undefined) options[key] = file[key];
  const global = file.global;
  if (global !== undefined) {
    if (!isObject(global)) problems.push({ path: ['global'], message: configMessages.badGlobal(global) });
    else {
      for (const [key, value] of Object.entries(global)) {
        if ((GLOBAL_KEYS as readonly string[]).includes(key)) options[key] = value;
        else problems.push({ path: ['global', key], message: configMessages.unknownSetting(key, GLOBAL_KEYS) });
      }
    }
  }
  const storage = file.storage === undefined ? undefined : storageSpec(file.storage, env, problems);
  return { options: options as RateLimitModuleOptions, ...(storage ? { storage } : {}), problems };
}

function storageSpec(value: unknown, env: Readonly<Record<string, string | undefined>>, problems: FileProblem[]): StorageSpec | undefined {
  const type = isObject(value) ? value.type : undefined;
  if (!isObject(value) || (type !== 'memory' && type !== 'mongodb' && type !== 'redis')) {
    problems.push({ path: ['storage', 'type'], message: configMessages.badStorageType(type) });
    return undefined;
  }
  const before = problems.length;
  const fields = STORAGE_FIELDS[type];
  for (const key of Object.keys(value))
    if (!fields.includes(key)) problems.push({ path: ['storage', key], message: configMessages.unknownStorageField(type, key, fields) });
  if (type === 'memory') return problems.length > before ? undefined : { type };
  const field = type === 'mongodb' ? 'uri' : 'url';
  const address = expand(value[field], ['storage', field], env, problems);
  if (type === 'mongodb') {
    const { collections } = value;
    if (collections !== undefined && (!isObject(collections) || !Object.values(collections).every((c) => typeof c === 'string' && c.length > 0))) {
      problems.push({ path: ['storage', 'collections'], message: configMessages.badCollections(collections) });
    }
    if (problems.length > before || address === undefined) return undefined;
    return { type, uri: address, ...(collections ? { collections: collections as Record<string, string> } : {}) };
  }
  if (value.prefix !== undefined && typeof value.prefix !== 'string')
    problems.push({ path: ['storage', 'prefix'], message: configMessages.badPrefix(value.prefix) });
  if (problems.length > before || address === undefined) return undefined;
  return { type, url: address, ...(typeof value.prefix === 'string' ? { prefix: value.prefix } : {}) };
}

/** A connection string with `${NAME}` replaced by the environment's value (a secret kept out of the file). */
function expand(value: unknown, path: readonly string[], env: Readonly<Record<string, string | undefined>>, problems: FileProblem[]): string | undefined {
  if (typeof value !== 'string' || value.length === 0) {
    problems.push({ path, message: configMessages.badConnectionString(path.join('.'), value) });
    return undefined;
  }
  let missing: string | undefined;
  const expanded = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? ((missing ??= name), ''));
  if (missing !== undefined) {
    problems.push({ path, message: configMessages.unsetVariable(path.join('.'), missing) });
    return undefined;
  }
  return expanded;
}
