import { checkFields, checkPositiveIntegers, filled, isObject, optionsObject } from '../core/option-objects.js';
import * as messages from '../errors/messages.js';
import { badDdosScoreLevel } from '../errors/ddos-messages.js';
import { isPositiveInteger } from '../engine/rule-resolution.js';
import type { AlertMetric } from '../events/rate-limit-events.js';
import type { StatsConfig } from '../observability/observability-config.js';
import type { AlertLevels, AlertOptions, AlertRetryOptions, AlertWebhook } from './alert-options.interface.js';

/** A webhook as checked: its format chosen, its headers given. */
export interface AlertWebhookConfig {
  readonly url: string;
  readonly format: 'json' | 'slack';
  readonly secret?: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Whether its alerts name the top client keys. */
  readonly includeKeys: boolean;
}

/** The `alerts` option checked, its defaults filled in. */
export interface AlertsConfig {
  readonly windowMs: number;
  readonly intervalMs: number;
  readonly minRequests: number;
  readonly cooldownMs: number;
  /** Per metric, its levels; false when it is not watched. */
  readonly thresholds: { readonly [M in AlertMetric]: Readonly<AlertLevels> | false };
  readonly webhooks: readonly AlertWebhookConfig[];
  readonly retry: Readonly<Required<AlertRetryOptions>>;
  readonly maxQueued: number;
}

export const DEFAULT_ALERTS = Object.freeze({
  windowMs: 60_000,
  intervalMs: 10_000,
  minRequests: 20,
  cooldownMs: 300_000,
  thresholds: Object.freeze({
    blockRate: Object.freeze({ warning: 0.05, critical: 0.2 }),
    violationsPerMinute: Object.freeze({ warning: 50, critical: 200 }),
    ddosScore: Object.freeze({ warning: 0.5, critical: 0.8 }),
  }),
  webhooks: Object.freeze([]),
  retry: Object.freeze({ attempts: 5, backoffMs: 1_000, maxBackoffMs: 30_000, timeoutMs: 5_000 }),
  maxQueued: 100,
}) satisfies AlertsConfig;

/** Most attempts a delivery may be given: beyond it, retries outlast any cooldown worth having. */
export const MAX_ATTEMPTS = 20;
const MIN_SECRET_LENGTH = 16;
/** Headers Rampart sets on each delivery (and `rampart-*`). */
const RESERVED_HEADERS = ['content-type', 'content-length', 'host', 'user-agent'];

/** The problem of a part of `alerts` that is no object: what it should look like. */
const notAnObject = (path: string, example: string) => (value: unknown) => messages.badAlertOptionObject(path, example, value);

/**
 * The `alerts` option checked against the statistics it reads, its defaults filled in; false when
 * alerts are off. Every problem is appended to `problems`.
 */
export function checkAlerts(given: unknown, stats: StatsConfig | false, problems: string[]): AlertsConfig | false {
  if (given === false) return false;
  const object = optionsObject(given, 'alerts', Object.keys(DEFAULT_ALERTS), messages.badAlerts, problems);
  if (object === undefined) return false;
  if (stats === false) problems.push(messages.alertsWithoutStats());
  const options = object as AlertOptions;
  const { windowMs, intervalMs, minRequests, cooldownMs, maxQueued } = DEFAULT_ALERTS;
  const numbers = filled({ windowMs, intervalMs, minRequests, cooldownMs, maxQueued }, object);
  checkPositiveIntegers(numbers, 'alerts', ['windowMs', 'intervalMs', 'cooldownMs', 'maxQueued'], problems);
  if (!Number.isSafeInteger(numbers.minRequests) || numbers.minRequests < 0)
    problems.push(messages.notNonNegativeCount('alerts.minRequests', numbers.minRequests));
  if (stats && isPositiveInteger(numbers.windowMs) && numbers.windowMs > stats.retentionMs) {
    problems.push(messages.alertWindowBeyondRetention(numbers.windowMs, stats.retentionMs));
  }
  return Object.freeze({
    ...numbers,
    thresholds: checkThresholds(options.thresholds, problems),
    webhooks: checkWebhooks(options.webhooks, problems),
    retry: checkRetry(options.retry, problems),
  });
}

/** Per metric: whether a level is valid, and the problem of one that is not. */
const LEVEL_CHECKS: { readonly [M in AlertMetric]: { valid(value: number): boolean; problem(path: string, value: unknown): string } } = {
  blockRate: { valid: (value) => value > 0 && value <= 1, problem: messages.badBlockRateLevel },
  violationsPerMinute: { valid: (value) => value > 0, problem: messages.badRateLevel },
  ddosScore: { valid: (value) => value > 0 && value <= 1, problem: badDdosScoreLevel },
};

function checkThresholds(given: unknown, problems: string[]): AlertsConfig['thresholds'] {
  const defaults = DEFAULT_ALERTS.thresholds;
  const example = '{ blockRate: { warning: 0.05, critical: 0.2 } }';
  const path = 'alerts.thresholds';
  const thresholds = optionsObject(given, path, Object.keys(defaults), notAnObject(path, example), problems);
  if (thresholds === undefined) return defaults;
  return Object.freeze({
    blockRate: checkLevels('blockRate', thresholds['blockRate'], problems),
    violationsPerMinute: checkLevels('violationsPerMinute', thresholds['violationsPerMinute'], problems),
    ddosScore: checkLevels('ddosScore', thresholds['ddosScore'], problems),
  });
}

/** A metric's levels, checked; its defaults when left out. */
function checkLevels(metric: AlertMetric, given: unknown, problems: string[]): Readonly<AlertLevels> | false {
  const defaults = DEFAULT_ALERTS.thresholds[metric];
  const path = `alerts.thresholds.${metric}`;
  const { valid, problem } = LEVEL_CHECKS[metric];
  if (given === undefined) return defaults;
  if (given === false) return false;
  const object = optionsObject(given, path, ['warning', 'critical'], (value) => messages.badAlertLevels(path, value), problems);
  if (object === undefined) return false;
  const levels = object as AlertLevels;
  const before = problems.length;
  for (const level of ['warning', 'critical'] as const) {
    const value = levels[level];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || !valid(value))) problems.push(problem(`${path}.${level}`, value));
  }
  if (levels.warning === undefined && levels.critical === undefined) problems.push(messages.noAlertLevel(path));
  else if (problems.length === before && levels.warning !== undefined && levels.critical !== undefined && levels.warning >= levels.critical) {
    problems.push(messages.warningNotBelowCritical(path, levels.warning, levels.critical));
  }
  return Object.freeze({
    ...(levels.warning !== undefined ? { warning: levels.warning } : {}),
    ...(levels.critical !== undefined ? { critical: levels.critical } : {}),
  });
}

function checkWebhooks(given: unknown, problems: string[]): readonly AlertWebhookConfig[] {
  if (given === undefined) return DEFAULT_ALERTS.webhooks;
  if (!Array.isArray(given)) {
    problems.push(messages.badWebhooks(given));
    return DEFAULT_ALERTS.webhooks;
  }
  return Object.freeze(given.map((webhook: unknown, i) => checkWebhook(webhook, `alerts.webhooks[${i}]`, problems)));
}

function checkWebhook(given: unknown, path: string, problems: string[]): AlertWebhookConfig {
  if (!isObject(given)) {
    problems.push(notAnObject(path, "{ url: 'https://ops.example.com/rampart', secret: '<random>' }")(given));
    return { url: '', format: 'json', headers: {}, includeKeys: true };
  }
  checkFields(given, path, ['url', 'format', 'secret', 'headers', 'includeKeys'], problems);
  const { url, format = 'json', secret, headers = {}, includeKeys = format !== 'slack' } = given as unknown as AlertWebhook;
  if (typeof includeKeys !== 'boolean') problems.push(messages.badBoolean(`${path}.includeKeys`, includeKeys));
  const parsed = parseUrl(url);
  const scheme = parsed?.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') problems.push(messages.badWebhookUrl(`${path}.url`, url, scheme));
  else if (parsed?.username || parsed?.password) problems.push(messages.webhookUrlCredentials(`${path}.url`));
  if (format !== 'json' && format !== 'slack') problems.push(messages.badWebhookFormat(`${path}.format`, format));
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH))
    problems.push(messages.badWebhookSecret(`${path}.secret`, secret));
  else if (secret === undefined && format === 'json') problems.push(messages.webhookSecretRequired(path));
  if (!isObject(headers)) problems.push(notAnObject(`${path}.headers`, "{ Authorization: 'Bearer <token>' }")(headers));
  else {
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.includes(lower) || lower.startsWith('rampart-')) problems.push(messages.reservedWebhookHeader(`${path}.headers`, name));
      else if (typeof value !== 'string') problems.push(messages.badWebhookHeader(`${path}.headers.${name}`, value));
    }
  }
  return Object.freeze({ url, format, ...(secret !== undefined ? { secret } : {}), headers: Object.freeze({ ...headers }), includeKeys: includeKeys === true });
}

/** An absolute URL, parsed; undefined for anything else. */
function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function checkRetry(given: unknown, problems: string[]): AlertsConfig['retry'] {
  const defaults = DEFAULT_ALERTS.retry;
  const example = '{ attempts: 5, backoffMs: 1000, maxBackoffMs: 30000, timeoutMs: 5000 }';
  const options = optionsObject(given, 'alerts.retry', Object.keys(defaults), notAnObject('alerts.retry', example), problems);
  if (options === undefined) return defaults;
  const retry = filled({ ...defaults }, options);
  if (!isPositiveInteger(retry.attempts) || retry.attempts > MAX_ATTEMPTS) problems.push(messages.tooManyAttempts(retry.attempts, MAX_ATTEMPTS));
  const before = problems.length;
  checkPositiveIntegers(retry, 'alerts.retry', ['backoffMs', 'maxBackoffMs', 'timeoutMs'], problems);
  if (problems.length === before && retry.maxBackoffMs < retry.backoffMs) problems.push(messages.maxBackoffBelowBackoff(retry.maxBackoffMs, retry.backoffMs));
  return Object.freeze(retry);
}
