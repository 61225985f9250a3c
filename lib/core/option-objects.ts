/**
 * Checks shared by every option that is an object of settings (`stats`, `logging`, `storeBreaker`,
 * `alerts` and its parts): what is no object, which fields are unknown, and which defaults fill
 * the fields left out. A field set to `undefined` is left out: it takes its default, as it would
 * with a spread of options where some are unset.
 */
import * as messages from '../errors/messages.js';
import { isPositiveInteger } from '../engine/rule-resolution.js';

/** A plain object (not null, not an array). */
export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reports each field of `given` that is not among `fields`, as `<path>.<field> is not an option`. */
export function checkFields(given: Readonly<Record<string, unknown>>, path: string, fields: readonly string[], problems: string[]): void {
  for (const field of Object.keys(given)) if (!fields.includes(field)) problems.push(messages.unknownOption(path, field, fields));
}

/**
 * `given` as an object of options named `path`, its unknown fields reported; undefined when it is
 * left out, or when it is no object (reported with `notAnObject(given)`, the option's own text,
 * which says what the option should look like).
 */
export function optionsObject(
  given: unknown,
  path: string,
  fields: readonly string[],
  notAnObject: (value: unknown) => string,
  problems: string[],
): Record<string, unknown> | undefined {
  if (given === undefined) return undefined;
  if (!isObject(given)) {
    problems.push(notAnObject(given));
    return undefined;
  }
  checkFields(given, path, fields, problems);
  return given;
}

/** `defaults`, with each of its fields that `given` sets to anything but undefined (other fields of `given` are left out). */
export function filled<T extends object>(defaults: T, given: Readonly<Record<string, unknown>>): T {
  return Object.fromEntries(Object.entries(defaults).map(([field, value]) => [field, given[field] !== undefined ? given[field] : value])) as T;
}

/**
 * An option that is an object of settings, `true` (every default) or `false` (off): false, or its
 * settings with the defaults filled in (the defaults for anything that is no object, reported).
 */
export function switchable<T extends object>(
  given: unknown,
  path: string,
  defaults: T,
  notAnObject: (value: unknown) => string,
  problems: string[],
): T | false {
  if (given === false) return false;
  if (given === true) return defaults;
  const options = optionsObject(given, path, Object.keys(defaults), notAnObject, problems);
  return options === undefined ? defaults : filled(defaults, options);
}

/** Reports each of `fields` of `options` that is not a positive integer, as `<path>.<field>`. */
export function checkPositiveIntegers<T extends object>(options: T, path: string, fields: readonly (keyof T & string)[], problems: string[]): void {
  for (const field of fields) if (!isPositiveInteger(options[field])) problems.push(messages.notPositiveInteger(`${path}.${field}`, options[field]));
}
