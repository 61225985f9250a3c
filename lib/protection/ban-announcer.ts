import type { EventPublisher } from '../events/event-publisher.js';
import { RAMPART_EVENTS } from '../events/rate-limit-events.js';
import type { Ban } from '../storage/ban-store.interface.js';
import { shadowMark } from '../engine/store-keys.js';

/** Announces a block (`rampart.block`) or a permanent ban (`rampart.ban`) written at `atMs`. */
export function announceBan(events: EventPublisher, ban: Ban, atMs: number): void {
  if (ban.kind === 'permanent') {
    events.publish(RAMPART_EVENTS.ban, { target: ban.target, ban, source: ban.source, reason: ban.reason, atMs, ...shadowMark(ban.target) });
    return;
  }
  const untilMs = ban.expiresAtMs ?? atMs;
  events.publish(RAMPART_EVENTS.block, {
    target: ban.target,
    ban,
    source: ban.source,
    reason: ban.reason,
    untilMs,
    durationMs: untilMs - atMs,
    blockCount: ban.blockCount,
    atMs,
    ...shadowMark(ban.target),
  });
}
