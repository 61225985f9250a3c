/** Warning and critical levels of one metric; a level left out is not watched. */
export interface AlertLevels {
  /** Sent when the metric reaches it (and not the critical level). */
  warning?: number;
  /** Sent when the metric reaches it; while it is cooling down, the metric's warning is not sent. */
  critical?: number;
}

/** Thresholds of each metric; a metric left out keeps its defaults, `false` is not watched. */
export interface AlertThresholds {
  /**
   * The share of requests refused (limited, blocked or banned) over the window, from 0 to 1;
   * only evaluated with at least `minRequests` requests in the window.
   * @default { warning: 0.05, critical: 0.2 }
   */
  blockRate?: AlertLevels | false;
  /**
   * Violations of enforced rules per minute, over the window (rounded out to whole
   * `stats.bucketMs`, as the stats API's `violationsPerMinute`).
   * @default { warning: 50, critical: 200 }
   */
  violationsPerMinute?: AlertLevels | false;
  /**
   * The highest suspicion score (0 to 1) this instance's DDoS detection judged within its window
   * (see the `ddos` option; not watched without it).
   * @default { warning: 0.5, critical: 0.8 }
   */
  ddosScore?: AlertLevels | false;
}

/** Where alerts are sent: a receiver of signed JSON, or a Slack-compatible incoming webhook. */
export interface AlertWebhook {
  /** An `http:` or `https:` URL. Treat a Slack webhook URL as a secret: it is never logged (only its origin is). */
  url: string;
  /**
   * `'json'`: the `AlertEvent` as JSON, signed (`Rampart-Signature`). `'slack'`: `{ text, blocks }`,
   * as Slack, Mattermost, Rocket.Chat and Discord's `/slack` endpoints take it.
   * @default 'json'
   */
  format?: 'json' | 'slack';
  /**
   * The key of the HMAC-SHA256 signature in `Rampart-Signature` (at least 16 characters; e.g.
   * `openssl rand -hex 32`). Required for `json` webhooks, so that a receiver can tell Rampart's
   * alerts from anyone else's posts; optional for `slack` ones (Slack does not check it).
   */
  secret?: string;
  /** More request headers, e.g. `{ Authorization: 'Bearer ...' }` (not `Content-Type` nor `Rampart-*`). */
  headers?: Record<string, string>;
  /**
   * Whether the alert names the top offending client keys (`stats.topKeys`: addresses, user ids,
   * which are personal data). Without them, `topKeys` is `[]` and a Slack message has no "Top
   * clients" line; the `rampart.alert` event keeps them, and the stats API lists them.
   * @default true for `json` (a signed post to a receiver of your own), false for `slack` (a chat channel)
   */
  includeKeys?: boolean;
}

/** How each delivery is retried. */
export interface AlertRetryOptions {
  /** Most attempts per alert and webhook, the first included. @default 5 */
  attempts?: number;
  /** Wait before the second attempt, in milliseconds; doubled before each further one. @default 1_000 */
  backoffMs?: number;
  /** Longest wait between two attempts, in milliseconds (a `Retry-After` is followed up to it). @default 30_000 */
  maxBackoffMs?: number;
  /** Longest wait for one attempt's response, in milliseconds. @default 5_000 */
  timeoutMs?: number;
}

/**
 * Alerts on the statistics (see `StatsOptions`): every `intervalMs`, each threshold is compared
 * with the figures of the last `windowMs` (the whole fleet's when the storage keeps every
 * instance's statistics), and an alert that is reached is published as `rampart.alert`
 * (`events.onAlert`) and sent to every webhook, at most once per `cooldownMs`. Off the request
 * path: deliveries wait in a bounded queue per webhook and are retried with backoff.
 *
 * @example
 * alerts: {
 *   thresholds: { blockRate: { warning: 0.05, critical: 0.2 } },
 *   webhooks: [{ url: 'https://ops.example.com/rampart', secret: process.env.ALERT_SECRET }, { url: process.env.SLACK_WEBHOOK_URL, format: 'slack' }],
 * }
 */
export interface AlertOptions {
  /** The window each evaluation reads, in milliseconds (at most `stats.retentionMs`). @default 60_000 */
  windowMs?: number;
  /** How often thresholds are evaluated, in milliseconds. @default 10_000 */
  intervalMs?: number;
  /** Fewest requests in the window for the block rate to be evaluated (a few refusals of a few requests are no alert). @default 20 */
  minRequests?: number;
  /**
   * Shortest time between two sendings of one alert (a metric at a level), in milliseconds. Shared
   * by the instances through `storage.leases` when the storage has it, so that a fleet sends each
   * alert once per cooldown; per instance otherwise.
   * @default 300_000 (5 minutes)
   */
  cooldownMs?: number;
  /** @default { blockRate: { warning: 0.05, critical: 0.2 }, violationsPerMinute: { warning: 50, critical: 200 }, ddosScore: { warning: 0.5, critical: 0.8 } } */
  thresholds?: AlertThresholds;
  /** Where alerts are sent; without any, they are only published as events. @default [] */
  webhooks?: AlertWebhook[];
  /** @default { attempts: 5, backoffMs: 1_000, maxBackoffMs: 30_000, timeoutMs: 5_000 } */
  retry?: AlertRetryOptions;
  /** Most alerts waiting for each webhook; when it is full, the oldest is dropped (and logged). @default 100 */
  maxQueued?: number;
}
