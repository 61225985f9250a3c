import { Transform } from 'class-transformer';
import { registerDecorator, ValidateIf, type ValidationArguments, type ValidationOptions } from 'class-validator';
import * as messages from '../../errors/messages.js';
import { MIN_IPV4_PREFIX, MIN_IPV6_PREFIX, wideRangeProblem } from '../../protection/wide-range.js';
import { canonicalCidr } from '../../storage/store-input.js';
import { MAX_CLIENT_KEY_LENGTH } from '../admin.constants.js';

/**
 * Validation and query-string conversions of the admin DTOs. Every check starts with `typeof`, so an
 * object (`{ "$gt": "" }`, `key[$gt]=`) or an array (`key=a&key=b`) where a string is expected
 * fails validation and never reaches a store.
 */

/** Longest address or range text accepted (an IPv6 address with an IPv4 tail and a prefix fits). */
const MAX_CIDR_LENGTH = 64;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const EPOCH_MS = /^\d{1,15}$/;
/** ISO 8601: a date, or a date and time with a zone (a time without zone would depend on the server's). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** The OpenAPI description of a client key: what IsClientKey accepts. */
export const CLIENT_KEY_SCHEMA = { type: 'string', minLength: 1, maxLength: MAX_CLIENT_KEY_LENGTH, pattern: `^[^${CONTROL.source.slice(1, -1)}]+$` } as const;
/** The OpenAPI description of address or range text: the characters and length IsCidr accepts (the address itself is checked by parsing it). */
export const CIDR_SCHEMA = { type: 'string', minLength: 2, maxLength: MAX_CIDR_LENGTH, pattern: '^[0-9A-Fa-f:.]+(?:/[0-9]{1,3})?$' } as const;
/** The OpenAPI description of a time in a query: what ToTime converts. */
export const TIME_SCHEMA = { type: 'string', pattern: `^(?:${EPOCH_MS.source.slice(1, -1)}|${ISO_TIME.source.slice(1, -1)})$` } as const;

/** What the OpenAPI document says of a range too wide, and of `force`. */
export const WIDE_DOC = `A range wider than /${MIN_IPV4_PREFIX} (IPv4) or /${MIN_IPV6_PREFIX} (IPv6), such as 0.0.0.0/0 or ::/0, is refused (400) unless force is true.`;
export const FORCE_DOC = `true to accept a range wider than /${MIN_IPV4_PREFIX} (IPv4) or /${MIN_IPV6_PREFIX} (IPv6), such as 0.0.0.0/0 or ::/0, which covers a large part of the Internet; refused (400) without it.`;

/** Validates the property only when it is present: unlike `@IsOptional()`, `null` is not taken for absent. */
export const Optional = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

function custom(
  name: string,
  validate: (value: unknown, args: ValidationArguments) => boolean,
  message: (args: ValidationArguments) => string,
  options?: ValidationOptions,
): PropertyDecorator {
  return (prototype, property) =>
    registerDecorator({
      name,
      target: prototype.constructor,
      propertyName: String(property),
      ...(options ? { options } : {}),
      validator: { validate, defaultMessage: message },
    });
}

/** A client key as the guard stores it: 1 to 128 characters, no control characters. */
export const IsClientKey = (): PropertyDecorator =>
  custom(
    'isClientKey',
    (value) => typeof value === 'string' && value.length > 0 && value.length <= MAX_CLIENT_KEY_LENGTH && !CONTROL.test(value),
    (args) => messages.adminBadClientKey(args.property, MAX_CLIENT_KEY_LENGTH),
  );

/** One IPv4 or IPv6 address, or a CIDR range with no host bits set; no zone id. */
export const IsCidr = (): PropertyDecorator =>
  custom(
    'isCidr',
    (value) => cidrProblem(value, 'cidr') === null,
    (args) => cidrProblem(args.value, args.property) ?? '',
  );

function cidrProblem(value: unknown, path: string): string | null {
  if (typeof value !== 'string') return `${path} must be a string holding an IP address or a CIDR range such as 203.0.113.0/24 or 2001:db8::/48`;
  if (value.length > MAX_CIDR_LENGTH) return `${path} must be at most ${MAX_CIDR_LENGTH} characters`;
  if (value.includes('%')) return messages.adminZoneId(path);
  if (value.trim() !== value) return `${path} must not start or end with spaces`;
  try {
    canonicalCidr(value, path);
    return null;
  } catch (error) {
    return (error as Error).message.replace(/\.$/, '');
  }
}

/**
 * A range no wider than /8 (IPv4) or /32 (IPv6), unless the body says `force: true`. Placed above
 * `IsCidr`, so it speaks only of text that is a range.
 */
export const NarrowUnlessForced = (): PropertyDecorator =>
  custom(
    'narrowUnlessForced',
    (value, args) => (args.object as { force?: unknown }).force === true || wideRangeProblem(value, args.property) === null,
    (args) => (wideRangeProblem(args.value, args.property) ?? '').replace(/\.$/, ''),
  );

/** A boolean in a JSON body. */
export const IsJsonBoolean = (): PropertyDecorator =>
  custom(
    'isJsonBoolean',
    (value) => typeof value === 'boolean',
    (args) => messages.adminBadBoolean(args.property),
  );

/** Fails when `other` is present too. */
export const NotWith = (other: string, message: string): PropertyDecorator =>
  custom(
    'notWith',
    (_value, args) => (args.object as Record<string, unknown>)[other] === undefined,
    () => message,
  );

/** Fails unless `allowed(object)`. */
export const OnlyWhen = (allowed: (object: Record<string, unknown>) => boolean, message: string): PropertyDecorator =>
  custom(
    'onlyWhen',
    (_value, args) => allowed(args.object as Record<string, unknown>),
    () => message,
  );

/** A time in epoch ms, converted from the query by `ToTime`. */
export const IsTime = (): PropertyDecorator =>
  custom(
    'isTime',
    (value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0,
    (args) => messages.adminBadTime(args.property),
  );

/** A boolean, converted from the query by `ToBoolean`. */
export const IsBooleanQuery = (): PropertyDecorator =>
  custom(
    'isBooleanQuery',
    (value) => typeof value === 'boolean',
    (args) => messages.adminBadBoolean(args.property),
  );

/** Query text of decimal digits to a number; anything else is left for validation to refuse. */
export const ToInteger = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value));

/** `true` / `false` to a boolean; anything else is left for validation to refuse. */
export const ToBoolean = (): PropertyDecorator => Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));

/** Epoch ms text or ISO 8601 text to epoch ms; anything else is left for validation to refuse. */
export const ToTime = (): PropertyDecorator => Transform(({ value }: { value: unknown }) => parseTime(value) ?? value);

/** Epoch ms of query text: digits (epoch ms) or ISO 8601 with a zone; null otherwise. */
export function parseTime(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  if (EPOCH_MS.test(value)) return Number(value);
  if (!ISO_TIME.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}
