import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/messages.js';
import type { AlertEvent } from '../events/rate-limit-events.js';
import type { AlertsConfig, AlertWebhookConfig } from './alert-config.js';
import { slackMessage, withoutKeys } from './alert-payload.js';
import { signAlert, SIGNATURE_HEADER } from './alert-signature.js';

/** What one attempt came to: delivered, or why not and whether another attempt may do better. */
type Attempt = { readonly delivered: true } | { readonly delivered: false; readonly retry: boolean; readonly reason: string; readonly retryAfterMs?: number };

export interface WebhookSenderOptions {
  readonly retry: AlertsConfig['retry'];
  readonly maxQueued: number;
  readonly clock: Clock;
  readonly logger: RampartLogger;
}

/**
 * Delivers alerts to one webhook, one at a time, in order, with Node's `fetch`: a bounded queue
 * (the oldest alert is dropped, and logged, when it is full), and for each alert up to
 * `retry.attempts` attempts of at most `retry.timeoutMs`, `retry.backoffMs` apart and twice as far
 * apart after each failure (up to `retry.maxBackoffMs`). A 2xx ends it; a 3xx or 4xx other than 408
 * and 429 is not retried (the request itself is wrong). A final failure is logged once. Nothing
 * here throws to the caller, and no timer keeps the process alive.
 */
export class WebhookSender {
  /** Names the webhook in logs: its place in the options and its origin, never its path (a Slack URL is a secret). */
  readonly name: string;
  private readonly queue: AlertEvent[] = [];
  /** The delivery loop, while it runs (it ends, synchronously, as soon as it finds the queue empty). */
  private sending: Promise<void> | undefined;
  /** The alert being delivered (attempted, or waiting between attempts). */
  private current: AlertEvent | undefined;
  private stopping = false;
  private readonly aborter = new AbortController();

  constructor(
    private readonly webhook: AlertWebhookConfig,
    index: number,
    private readonly options: WebhookSenderOptions,
  ) {
    this.name = `alerts.webhooks[${index}] (${new URL(webhook.url).origin})`;
  }

  /** Queues `event` for delivery (nothing once stopping). */
  send(event: AlertEvent): void {
    if (this.stopping) return;
    if (this.queue.length >= this.options.maxQueued) {
      const dropped = this.queue.shift() as AlertEvent;
      this.options.logger.warn(messages.alertDropped(dropped.alert, dropped.level, this.name, this.options.maxQueued));
    }
    this.queue.push(event);
    this.sending ??= this.drain();
  }

  /** Resolves once every queued alert has been delivered or given up. */
  async settled(): Promise<void> {
    while (this.sending) await this.sending;
  }

  /**
   * Takes no more alerts, and gives those queued or in flight at most one `retry.timeoutMs` to be
   * delivered (pauses between attempts are not waited for); the rest are given up and counted in
   * one log line.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const settled = this.settled();
    await Promise.race([settled, sleep(this.options.retry.timeoutMs, undefined, { ref: false })]);
    const left = this.queue.length + (this.current ? 1 : 0);
    this.queue.length = 0;
    this.aborter.abort();
    await settled;
    if (left > 0) this.options.logger.warn(messages.alertsStopped(left));
  }

  private async drain(): Promise<void> {
    for (let event = this.queue.shift(); event !== undefined; event = this.queue.shift()) {
      this.current = event;
      await this.deliver(event).catch(() => undefined); // only a logger that throws could get here
      this.current = undefined;
    }
    // In the same turn as the last look at the queue: an alert sent from now on starts a new loop.
    this.sending = undefined;
  }

  private async deliver(event: AlertEvent): Promise<void> {
    const { attempts, backoffMs, maxBackoffMs } = this.options.retry;
    const sent = this.webhook.includeKeys ? event : withoutKeys(event);
    const body = JSON.stringify(this.webhook.format === 'slack' ? slackMessage(sent) : sent);
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(event.id, body);
      if (result.delivered || this.aborter.signal.aborted) return;
      if (!result.retry || attempt >= attempts) {
        this.options.logger.error(messages.alertNotDelivered(event.alert, event.level, this.name, attempt, result.reason));
        return;
      }
      const pauseMs = Math.min(Math.max(backoffMs * 2 ** (attempt - 1), result.retryAfterMs ?? 0), maxBackoffMs);
      await sleep(pauseMs, undefined, { ref: false, signal: this.aborter.signal }).catch(() => undefined);
      if (this.aborter.signal.aborted) return;
    }
  }

  private async attempt(id: string, body: string): Promise<Attempt> {
    const { timeoutMs } = this.options.retry;
    const headers: Record<string, string> = {
      ...this.webhook.headers,
      'content-type': 'application/json',
      'user-agent': 'nest-rampart',
      'rampart-alert-id': id,
    };
    if (this.webhook.secret !== undefined) headers[SIGNATURE_HEADER] = signAlert(this.webhook.secret, body, Math.floor(this.options.clock.now() / 1000));
    try {
      const response = await fetch(this.webhook.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.aborter.signal]),
      });
      await response.body?.cancel().catch(() => undefined);
      const { status } = response;
      if (status >= 200 && status < 300) return { delivered: true };
      if (status < 500 && status !== 408 && status !== 429) return { delivered: false, retry: false, reason: messages.alertRefused(status) };
      const retryAfterMs = retryAfter(response.headers.get('retry-after'));
      return { delivered: false, retry: true, reason: messages.alertFailedStatus(status), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    } catch (error) {
      const timedOut = (error as { name?: string })?.name === 'TimeoutError';
      return { delivered: false, retry: true, reason: timedOut ? messages.alertTimedOut(timeoutMs) : messages.alertRequestFailed(error) };
    }
  }
}

/** A `Retry-After` of seconds, in milliseconds (an HTTP date is not followed). */
function retryAfter(value: string | null): number | undefined {
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1_000 : undefined;
}
