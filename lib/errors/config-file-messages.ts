import { describe } from './describe.js';

export const notAMapping = (value: unknown) => `the file must hold a mapping of sections (rules:, routes:...), got ${describe(value)}.`;

export const unknownSection = (key: string, keys: readonly string[]) => `'${key}' is not a section of the configuration; the sections are ${keys.join(', ')}.`;

export const badVersion = (value: unknown) => `version must be 1 (the only format so far), got ${describe(value)}.`;

export const badGlobal = (value: unknown) => `global must be a mapping of settings (storeTimeoutMs: 500...), got ${describe(value)}.`;

export const unknownSetting = (key: string, keys: readonly string[]) =>
  `global.${key} is not a setting a file can make; the settings are ${keys.join(', ')}. Functions and objects (keyResolver, events, clock...) are code options.`;

export const badStorageType = (value: unknown) => `storage.type must be 'memory', 'mongodb' or 'redis', got ${describe(value)}.`;

export const unknownStorageField = (type: string, key: string, fields: readonly string[]) =>
  `storage.${key} is not a setting of the ${type} storage; its settings are ${fields.join(', ')}.`;

export const badCollections = (value: unknown) => `storage.collections must map collection roles to names (bans: my_bans), got ${describe(value)}.`;

export const badPrefix = (value: unknown) => `storage.prefix must be a string, got ${describe(value)}.`;

export const badConnectionString = (path: string, value: unknown) =>
  `${path} must be a connection string (\${NAME} reads it from the environment), got ${describe(value)}.`;

export const unsetVariable = (path: string, name: string) => `${path} reads \${${name}}, which the environment does not set.`;

export const unreadableFile = (file: string, reason: string) => `${file}: cannot be read (${reason}).`;

export const fileTooLarge = (file: string, bytes: number, max: number) => `${file}: ${bytes} bytes, more than the ${max} a configuration file may have.`;

export const badEnvOption = (value: unknown) => `env must be true, false or an object of variables, got ${describe(value)}.`;

export const badConfigFileOption = (value: unknown, path = 'configFile') =>
  `${path} must be a file path or { path, watch, reloadSignal }, got ${describe(value)}.`;

export const badReloadSignal = (value: unknown) => `configFile.reloadSignal must be a signal name such as 'SIGHUP', or false, got ${describe(value)}.`;

export const badEnvNumber = (name: string, value: string) => `${name}=${JSON.stringify(value)}: must be a positive integer.`;

export const badEnvFlag = (name: string, value: string) => `${name}=${JSON.stringify(value)}: must be true or false (1/0, yes/no, on/off).`;

export const noDefaultRule = (name: string) => `${name} sets the rule named 'default', and the rules have none: name one of them 'default', or unset ${name}.`;

export const burstWithoutBucket = (name: string, algorithm: unknown) =>
  `${name} sets the burst of the rule 'default', whose algorithm ${JSON.stringify(algorithm ?? 'sliding-window')} has none: give it algorithm 'token-bucket' or 'gcra'.`;

export const watchFailed = (file: string, error: unknown) =>
  `Cannot watch ${file} for changes (${error instanceof Error ? error.message : String(error)}): reload it with SIGHUP or POST /<admin>/config/reload.`;

export const reloadRefused = (file: string, trigger: string, version: number, problems: readonly string[]) =>
  [
    `Configuration ${file} not reloaded (${trigger}): version ${version} stays in force; ${problems.length} problem${problems.length === 1 ? '' : 's'}:`,
    ...problems.map((p) => `  - ${p}`),
  ].join('\n');

export const reloaded = (file: string, trigger: string, version: number, hash: string) =>
  `Configuration ${file} reloaded (${trigger}): version ${version} in force (sha256 ${hash.slice(0, 12)}).`;

export const restartNeeded = (file: string, keys: readonly string[]) =>
  `Configuration ${file}: ${keys.join(', ')} changed, which applies at the next restart (a reload applies rules, routes, groups, excludePaths, escalation and global.enabled).`;

export const adminNoConfigFile = () =>
  'This app has no configuration file to reload: give RateLimitModule the configFile option (or RAMPART_CONFIG) to configure it from a file.';

export const adminReloadRefused = (version: number, count: number) =>
  `The configuration file has ${count} problem${count === 1 ? '' : 's'} (listed in errors): nothing was changed, version ${version} stays in force.`;

export const signalShared = (signal: string) =>
  `${signal} reloads the configuration file, and another listener handles it too: with app.enableShutdownHooks() (every signal), ${signal} also stops the app. ` +
  `Give Nest the others only: app.enableShutdownHooks(['SIGINT', 'SIGTERM']), or configFile.reloadSignal another signal.`;
