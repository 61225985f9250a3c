import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import type { AlertEvent } from '../events/rate-limit-events.js';
import type { AlertsConfig } from './alert-config.js';
import { WebhookSender } from './webhook-sender.js';

/**
 * Delivers alerts to every webhook of the `alerts` option, off the request path: each webhook has
 * its own queue and retries (see `WebhookSender`), so a slow or broken one never delays the others.
 */
export class AlertDispatcher {
  private readonly senders: readonly WebhookSender[];

  constructor(config: AlertsConfig, clock: Clock, logger: RampartLogger) {
    const options = { retry: config.retry, maxQueued: config.maxQueued, clock, logger };
    this.senders = config.webhooks.map((webhook, i) => new WebhookSender(webhook, i, options));
  }

  /** Queues `event` for every webhook; returns at once. */
  send(event: AlertEvent): void {
    for (const sender of this.senders) sender.send(event);
  }

  /** Resolves once every queued alert has been delivered or given up. */
  async settled(): Promise<void> {
    await Promise.all(this.senders.map((sender) => sender.settled()));
  }

  /** Takes no more alerts; what is queued gets at most `retry.timeoutMs` to be delivered (see `WebhookSender.stop`). */
  async stop(): Promise<void> {
    await Promise.all(this.senders.map((sender) => sender.stop()));
  }
}
