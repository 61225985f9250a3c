import { isObject } from '../core/option-objects.js';
import * as messages from '../errors/messages.js';
import * as configMessages from '../errors/config-file-messages.js';
import type { ConfigFileOptions, ConfigFileSettings } from './config-file-options.js';

const FIELDS = ['path', 'watch', 'reloadSignal'];

/** The `configFile` and `env` options checked; problems appended. */
export function checkConfigFileOption(value: unknown, env: unknown, problems: string[]): ConfigFileSettings | undefined {
  if (env !== undefined && typeof env !== 'boolean' && !isObject(env)) problems.push(configMessages.badEnvOption(env));
  if (value === undefined) return undefined;
  const given: Partial<ConfigFileOptions> = typeof value === 'string' ? { path: value } : isObject(value) ? value : {};
  if (typeof value !== 'string' && !isObject(value)) {
    problems.push(configMessages.badConfigFileOption(value));
    return undefined;
  }
  for (const field of Object.keys(given)) if (!FIELDS.includes(field)) problems.push(messages.unknownOption('configFile', field, FIELDS));
  const { path, watch = true, reloadSignal = 'SIGHUP' } = given;
  if (typeof path !== 'string' || path.length === 0) problems.push(configMessages.badConfigFileOption(path, 'configFile.path'));
  if (typeof watch !== 'boolean') problems.push(messages.badBoolean('configFile.watch', watch));
  if (reloadSignal !== false && (typeof reloadSignal !== 'string' || !/^SIG[A-Z0-9]+$/.test(reloadSignal))) {
    problems.push(configMessages.badReloadSignal(reloadSignal));
  }
  return Object.freeze({ path: path as string, watch: watch as boolean, reloadSignal: reloadSignal as ConfigFileSettings['reloadSignal'] });
}
