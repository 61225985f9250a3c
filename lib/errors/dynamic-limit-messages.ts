import { escapeControls } from '../core/logger.js';
import { describe, errorText } from './describe.js';

/** The error texts of dynamic limits (a rule's `limit`, `windowMs` or `burst` as functions of the request, or its `limits`). */

export const notNumberOrFunction = (path: string, value: unknown) =>
  `${path} must be a positive integer or a function of the request returning one, got ${describe(value)}.`;

export const missingFallback = (path: string, field: string) =>
  `${path}.${field} is a function, so ${path}.fallback.${field} is required: the ${field} a request is counted by when the function throws or returns anything but a positive integer. Add it (a positive integer).`;

export const limitsWithFieldFunctions = (path: string, fields: readonly string[]) =>
  `${path} has both limits and ${fields.join(', ')} as ${fields.length === 1 ? 'a function' : 'functions'}: give one or the other (limits returns every field in one call).`;

export const badFallback = (path: string, value: unknown) => `${path}.fallback must be an object ({ limit, windowMs, burst }), got ${describe(value)}.`;

export const unknownFallbackField = (path: string, field: string) => `${path}.fallback has an unknown field '${field}': it takes limit, windowMs and burst.`;

export const badLimitsCache = (path: string, value: unknown) => `${path}.limitsCache must be an object ({ ttlMs, maxKeys?, key? }), got ${describe(value)}.`;

export const limitsCacheWithoutFunction = (path: string) =>
  `${path}.limitsCache is set but the rule has no dynamic limits: give limits (or limit, windowMs or burst as functions), or remove limitsCache.`;

/** Why a request's dynamic limits were not used: what the function gave, or what it threw. */
export const badLimitValue = (field: string, value: unknown) => `${field} returned ${describe(value)}, not a positive integer`;
export const badLimitsResult = (value: unknown) => `limits returned ${describe(value)}, not an object of limit, windowMs and burst`;
export const unknownLimitsField = (field: string) => `limits returned an unknown field '${escapeControls(field.slice(0, 64))}'`;
export const limitFunctionFailed = (field: string, error: unknown) => `${field} threw ${escapeControls(errorText(error).slice(0, 200))}`;

/** The warning a failed dynamic limit gives (at most once a minute per rule). */
export const dynamicLimitFailed = (rule: string, reason: string, limit: number, windowMs: number, since: number) =>
  `Rule '${rule}': its dynamic limits failed (${reason}); the request was counted by the rule's fallback, ${limit} per ${windowMs} ms.` +
  (since > 0 ? ` ${since} more failure${since === 1 ? '' : 's'} since the last report.` : '') +
  ' Fix the function, or the data it reads.';
