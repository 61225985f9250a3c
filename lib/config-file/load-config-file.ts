import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as configMessages from '../errors/config-file-messages.js';
import { RateLimitConfigurationError } from '../errors/rate-limit-configuration.error.js';
import { checkRateLimitOptions } from '../rate-limit.config.js';
import type { RateLimitModuleOptions } from '../rate-limit-options.interface.js';
import { memoryStorage } from '../storage/memory-storage.js';
import { MAX_CONFIG_FILE_BYTES, parseConfigDocument, problemPath } from './config-document.js';
import { fileOptions, GLOBAL_KEYS, withDurations, type StorageSpec } from './file-format.js';

/** A configuration file read and validated. */
export interface LoadedConfigFile {
  /** The file's absolute path. */
  readonly path: string;
  /** SHA-256 of its content, hex: the same file gives the same hash on every instance. */
  readonly hash: string;
  /** Its content as data (durations in milliseconds). */
  readonly data: Readonly<Record<string, unknown>>;
  /** The module options its sections set (`global.<setting>` as the option `<setting>`). */
  readonly options: RateLimitModuleOptions;
  /** The storage it names, built by the module at startup. */
  readonly storage?: StorageSpec;
}

export interface LoadConfigFileOptions {
  /** Where `${NAME}` in a storage connection string is read from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads, parses and validates a configuration file (YAML or JSON), by the same validation as the
 * module's options.
 *
 * @throws RateLimitConfigurationError listing every problem, each with the file, the line, the
 *   column and the key (`rampart.yaml:12:5: rules[1].limit must be a positive integer, got -5.`)
 */
export async function loadConfigFile(path: string, options: LoadConfigFileOptions = {}): Promise<LoadedConfigFile> {
  const absolute = resolve(path);
  let text: string;
  try {
    const { size } = await stat(absolute);
    if (size > MAX_CONFIG_FILE_BYTES) throw new RateLimitConfigurationError([configMessages.fileTooLarge(path, size, MAX_CONFIG_FILE_BYTES)], path);
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    if (error instanceof RateLimitConfigurationError) throw error;
    throw new RateLimitConfigurationError([configMessages.unreadableFile(path, (error as NodeJS.ErrnoException).code ?? (error as Error).message)], path);
  }
  return configFromText(text, path, absolute, options.env ?? process.env);
}

/** `loadConfigFile` on text already read; `name` is how problems name the file. */
export function configFromText(text: string, name: string, path: string, env: Readonly<Record<string, string | undefined>>): LoadedConfigFile {
  const document = parseConfigDocument(text, name);
  if (document.problems.length > 0) throw new RateLimitConfigurationError(document.problems, name);
  let shaped: ReturnType<typeof fileOptions>;
  let data: unknown;
  try {
    shaped = fileOptions(document.data, env);
    data = withDurations(document.data);
  } catch (error) {
    throw new RateLimitConfigurationError([`${name}: ${(error as Error).message}.`], name);
  }
  const { options, storage, problems } = shaped;
  const located = problems.map((p) => document.locate(p.message, p.path));
  // The module's own validation, on the file's options alone (a memory storage stands for the
  // file's, which is only built at startup; the environment's overrides are not applied).
  const checked: string[] = [];
  checkRateLimitOptions({ ...options, storage: memoryStorage(), env: false }, checked);
  for (const problem of checked) {
    const at = problemPath(problem);
    const inGlobal = typeof at[0] === 'string' && (GLOBAL_KEYS as readonly string[]).includes(at[0]);
    located.push(inGlobal ? document.locate(`global.${problem}`, ['global', ...at]) : document.locate(problem, at));
  }
  if (located.length > 0) throw new RateLimitConfigurationError(located.sort(byLine), name);
  return Object.freeze({
    path,
    hash: createHash('sha256').update(text).digest('hex'),
    data: data as Record<string, unknown>,
    options,
    ...(storage ? { storage } : {}),
  });
}

/** Problems in the order of their places in the file (those without one first). */
function byLine(a: string, b: string): number {
  const place = (p: string) => {
    const match = /^[^\n]*?:(\d+):(\d+): /.exec(p);
    return match ? Number(match[1]) * 100_000 + Number(match[2]) : 0;
  };
  return place(a) - place(b);
}
