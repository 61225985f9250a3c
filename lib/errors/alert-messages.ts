/** The texts of the `alerts` option's errors and of alert delivery; `messages.ts` re-exports them with the rest. */
import { describe, errorText } from './describe.js';

// The `alerts` option.

export const badAlerts = (value: unknown) =>
  `alerts must be an object of alert options, such as { thresholds: { blockRate: { warning: 0.05, critical: 0.2 } }, webhooks: [{ url, secret }] }, or false; got ${describe(value)}.`;

export const alertsWithoutStats = () =>
  'alerts read the statistics, which stats: false turns off. Remove stats: false (or give stats options instead), or remove alerts.';

export const badAlertOptionObject = (path: string, example: string, value: unknown) => `${path} must be an object such as ${example}, got ${describe(value)}.`;

export const alertWindowBeyondRetention = (windowMs: number, retentionMs: number) =>
  `alerts.windowMs (${windowMs}) is longer than stats.retentionMs (${retentionMs}): the statistics of such a window are not kept. Shorten alerts.windowMs or raise stats.retentionMs.`;

export const badAlertLevels = (path: string, value: unknown) =>
  `${path} must be { warning, critical } (either may be left out) or false (not watched), got ${describe(value)}.`;

export const noAlertLevel = (path: string) => `${path} sets neither warning nor critical: give one of them, or false to leave this metric unwatched.`;

export const badBlockRateLevel = (path: string, value: unknown) =>
  `${path} must be a share of requests above 0 and at most 1 (0.05 is 5 %), got ${describe(value)}.`;

export const badRateLevel = (path: string, value: unknown) => `${path} must be a number above 0 (violations per minute), got ${describe(value)}.`;

export const warningNotBelowCritical = (path: string, warning: number, critical: number) =>
  `${path}.warning (${warning}) must be below ${path}.critical (${critical}): the warning comes first. Lower the warning or raise the critical level.`;

export const badWebhooks = (value: unknown) => `alerts.webhooks must be an array of { url, secret?, format?, headers?, includeKeys? }, got ${describe(value)}.`;

/** @param scheme the scheme of a URL given, without its colon; undefined for anything else. */
export const badWebhookUrl = (path: string, value: unknown, scheme: string | undefined) =>
  `${path} must be an absolute http: or https: URL, such as https://ops.example.com/rampart, got ${scheme !== undefined ? `a ${scheme}: URL` : typeof value === 'string' ? 'a string that is not a URL' : describe(value)}.`;

export const webhookUrlCredentials = (path: string) =>
  `${path} carries a user name or password, which fetch does not send from a URL. Remove them from the URL and give them in headers, e.g. { Authorization: 'Basic <base64 of user:password>' }.`;

export const badWebhookFormat = (path: string, value: unknown) =>
  `${path} must be 'json' (signed JSON for a receiver of your own) or 'slack' (a Slack-compatible incoming webhook), got ${describe(value)}.`;

export const webhookSecretRequired = (path: string) =>
  `${path}.secret is required for a 'json' webhook: it signs each alert (Rampart-Signature), so that the receiver can reject posts that are not Rampart's. Give a random string of at least 16 characters (e.g. the output of openssl rand -hex 32).`;

export const badWebhookSecret = (path: string, value: unknown) =>
  `${path} must be a string of at least 16 characters (e.g. the output of openssl rand -hex 32), got ${typeof value === 'string' ? `${value.length} characters` : describe(value)}.`;

export const badWebhookHeader = (path: string, value: unknown) => `${path} must be a string, got ${describe(value)}.`;

export const reservedWebhookHeader = (path: string, name: string) =>
  `${path} sets ${name}, which Rampart sets itself (Content-Type, Content-Length, Host, User-Agent and Rampart-*). Remove it.`;

export const maxBackoffBelowBackoff = (max: number, backoff: number) =>
  `alerts.retry.maxBackoffMs (${max}) is shorter than alerts.retry.backoffMs (${backoff}). Raise maxBackoffMs or lower backoffMs.`;

export const tooManyAttempts = (value: unknown, max: number) =>
  `alerts.retry.attempts must be a whole number from 1 to ${max} (the first attempt included), got ${describe(value)}.`;

// Alert delivery and evaluation.

export const alertDropped = (alert: string, level: string, webhook: string, maxQueued: number) =>
  `Alert ${alert} (${level}) dropped for ${webhook}: ${maxQueued} alerts were already waiting for it (alerts.maxQueued). The webhook is slower than alerts arrive, or down.`;

export const alertNotDelivered = (alert: string, level: string, webhook: string, attempts: number, reason: string) =>
  `Alert ${alert} (${level}) not delivered to ${webhook} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}.`;

export const alertRefused = (status: number) =>
  `answered ${status}, which is not retried (an answer below 500 other than 2xx, 408 and 429 refuses the request itself: check the URL, secret and headers)`;

export const alertFailedStatus = (status: number) => `answered ${status}`;

export const alertTimedOut = (timeoutMs: number) => `no answer within ${timeoutMs} ms (alerts.retry.timeoutMs)`;

export const alertRequestFailed = (error: unknown) => `the request failed (${errorText((error as { cause?: unknown })?.cause ?? error)})`;

export const alertsStopped = (count: number) => `${count} alert${count === 1 ? '' : 's'} not delivered before shutdown (still queued or being retried).`;

export const alertEvaluationFailed = (error: unknown) =>
  `Alerts not evaluated: the statistics could not be read (${errorText(error)}). Trying again at the next interval.`;

export const alertCooldownUnshared = (error: unknown) =>
  `Alert cooldowns kept per instance for now: the lease store failed (${errorText(error)}), so other instances may send the same alert.`;
