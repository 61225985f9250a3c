export { loadConfigFile, configFromText, type LoadedConfigFile, type LoadConfigFileOptions } from './load-config-file.js';
export { DEFAULT_EXCLUDED_PATHS, type ConfigFileOptions } from './config-file-options.js';
export { ENV_OVERRIDES, withEnvOverrides } from './env-overrides.js';
export { FILE_KEYS, GLOBAL_KEYS, RELOADABLE_KEYS, type StorageSpec } from './file-format.js';
