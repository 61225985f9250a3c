import type { Clock } from '../core/clock.js';
import type { RampartLogger } from '../core/logger.js';
import * as messages from '../errors/ddos-messages.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { RAMPART_EVENTS } from '../events/rate-limit-events.js';
import type { Decision } from '../engine/decision.js';
import type { DecisionObserver } from '../engine/rampart-engine.js';
import type { Verdict } from '../engine/verdict.js';
import { DDOS_SLOTS, type DdosConfig } from './ddos-options.js';
import type { DdosBlocker } from './ddos-blocker.js';
import type { EndpointTraffic } from './ddos-events.js';
import { EndpointTable } from './endpoint-table.js';
import { watchResponse, type ResponseOf } from './response-status.js';
import { SlotRing } from './slot-ring.js';
import { ClientTraffic, signals, suspicionScore } from './suspicion.js';

/** Upper bounds of the suspicion-score histogram's buckets. */
export const SCORE_BUCKETS: readonly number[] = Object.freeze([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);

export interface DdosDetectorParts<C> {
  readonly clock: Clock;
  readonly events: EventPublisher;
  readonly logger: RampartLogger;
  /** Writes blocks; undefined with `autoBlock: false`. */
  readonly blocker?: DdosBlocker;
  /** The raw response of a request's context, whose status counts towards the error signal (the Nest module's HTTP requests). */
  readonly responseOf?: ResponseOf<C>;
}

/** What the detector knows now. */
export interface DdosSnapshot {
  /** Whether an attack is under way. */
  readonly attack: boolean;
  /** Epoch ms at which it began; undefined when none is under way. */
  readonly sinceMs?: number;
  /** Requests decided by this instance within the window. */
  readonly requests: number;
  readonly threshold: number;
  readonly windowMs: number;
  /** Attacks seen since startup. */
  readonly attacks: number;
  /** Clients found suspect since startup (once per client and attack). */
  readonly suspects: number;
  /** Client addresses followed now (at most `maxClients`). */
  readonly clients: number;
  readonly endpoints: readonly EndpointTraffic[];
}

/**
 * DDoS detection (see the `ddos` option and the README's "DDoS detection"): told of every decision
 * of its instance, it counts requests and errors per client address, per endpoint and in all over a
 * sliding window of `DDOS_SLOTS` slots. When the window's requests reach `threshold`, an attack
 * begins: every request of a client is then judged by its suspicion score, and a client whose score
 * reaches `scoreThreshold` is announced, logged and (with `autoBlock`) blocked for `blockDurationMs`.
 * The attack ends when the window's requests fall under half the threshold.
 *
 * Memory is bounded: fixed-size state per client (`ClientTraffic`), at most `maxClients` clients
 * (the least recently seen goes first) and `maxEndpoints` endpoints. Time is the decisions' own.
 */
export class DdosDetector<C = unknown> implements DecisionObserver<C> {
  private readonly slotMs: number;
  private readonly total = new SlotRing();
  private readonly endpoints: EndpointTable;
  /** Clients by address key, least recently seen first. */
  private readonly clients = new Map<string, ClientTraffic>();
  private attackNo = 0;
  private attackSinceMs: number | undefined;
  private suspectsInAttack = 0;
  private suspectCount = 0;
  private readonly scoreCounts = new Array<number>(SCORE_BUCKETS.length).fill(0);
  private scoreSum = 0;
  /** The highest score judged in each slot of the window (the `ddosScore` alert), and the newest slot's number. */
  private readonly peakScores = new Float64Array(DDOS_SLOTS);
  private peakSlot = -Infinity;

  constructor(
    readonly config: DdosConfig,
    private readonly parts: DdosDetectorParts<C>,
  ) {
    this.slotMs = config.windowMs / DDOS_SLOTS;
    this.endpoints = new EndpointTable(config.maxEndpoints);
  }

  decided(decision: Decision<C>, verdict: Verdict<C>): void {
    const { nowMs, address } = decision;
    const slot = Math.floor(nowMs / this.slotMs);
    // A refusal is an error, and so is what shadow mode would have refused.
    const error = verdict.outcome !== 'admitted' || verdict.shadow !== undefined;
    this.total.add(slot, error);
    const endpoint = this.endpoints.count(decision.rules.target, slot, error);
    let client: ClientTraffic | undefined;
    if (address !== null) {
      client = this.client(decision.addressKey, slot);
      client.add(slot, endpoint.id, error);
      const { responseOf } = this.parts;
      if (!error && responseOf !== undefined)
        watchResponse(responseOf, decision.request.context as C, (status) => this.answered(client!, endpoint.ring, status));
    }
    this.updateAttack(nowMs, slot);
    // A client already blocked or banned is not judged again (its requests still count).
    if (client === undefined || this.attackSinceMs === undefined || client.flaggedIn === this.attackNo) return;
    if (verdict.outcome !== 'blocked' && verdict.outcome !== 'banned') this.judge(decision.addressKey, address!, client, slot, nowMs);
  }

  /** A watched response was sent: a status of 400 or more is an error of its client and endpoint. */
  private answered(client: ClientTraffic, endpoint: SlotRing, status: number): void {
    if (status < 400) return;
    const slot = Math.floor(this.parts.clock.now() / this.slotMs);
    client.ring.addError(slot);
    endpoint.addError(slot);
    this.total.addError(slot);
  }

  /** The client of an address key, moved to the end of the table once per slot (a cheap least-recently-seen order). */
  private client(key: string, slot: number): ClientTraffic {
    let client = this.clients.get(key);
    if (client === undefined) {
      if (this.clients.size >= this.config.maxClients) this.clients.delete(this.clients.keys().next().value as string);
      client = new ClientTraffic();
      this.clients.set(key, client);
    } else if (client.ring.newest < slot) {
      this.clients.delete(key);
      this.clients.set(key, client);
    }
    return client;
  }

  /** Starts or ends the attack by the window's requests. */
  private updateAttack(nowMs: number, slot: number): void {
    const requests = this.total.total;
    const { threshold } = this.config;
    if (this.attackSinceMs === undefined) {
      if (requests < threshold) return;
      this.attackSinceMs = nowMs;
      this.attackNo++;
      this.suspectsInAttack = 0;
      this.announce('start', nowMs);
      // Clients that flooded before the threshold was reached are judged at once, not at their next request.
      for (const [key, client] of this.clients) if (client.flaggedIn !== this.attackNo) this.judge(key, null, client, slot, nowMs);
    } else if (requests < threshold / 2) {
      this.announce('end', nowMs);
      this.attackSinceMs = undefined;
    }
  }

  private announce(phase: 'start' | 'end', nowMs: number): void {
    const sinceMs = this.attackSinceMs as number;
    const { threshold, windowMs } = this.config;
    const requests = this.total.total;
    const endpoints = this.endpoints.busiest(5, Math.floor(nowMs / this.slotMs));
    const line =
      phase === 'start'
        ? messages.ddosAttackStarted(requests, threshold, windowMs, endpoints.map((e) => `${e.endpoint} (${e.requests})`).join(', '))
        : messages.ddosAttackEnded(requests, threshold, nowMs - sinceMs, this.suspectsInAttack);
    this.parts.logger.warn(line, { event: 'ddos-attack', phase, requests, threshold, windowMs, sinceMs, atMs: nowMs });
    this.parts.events.publish(RAMPART_EVENTS.ddosAttack, {
      phase,
      requests,
      threshold,
      windowMs,
      endpoints,
      suspects: this.suspectsInAttack,
      sinceMs,
      atMs: nowMs,
    });
  }

  /** Scores a client during an attack; a suspect is announced, logged and blocked (with `autoBlock`). */
  private judge(key: string, address: string | null, client: ClientTraffic, slot: number, nowMs: number): void {
    const { config } = this;
    const figures = client.figures(slot);
    const found = signals(figures, config.clientThreshold);
    const score = suspicionScore(found, config.weights);
    this.observeScore(score, slot);
    if (score < config.scoreThreshold) return;
    const { blocker, events, logger } = this.parts;
    let blocking = false;
    if (blocker !== undefined) {
      const reason = `ddos: suspicion score ${score.toFixed(2)} during an attack (${figures.requests} requests in ${config.windowMs} ms from this client)`;
      // Not tried now (too many writes under way, the store down): judged again at its next request.
      if (!blocker.block(key, config.blockDurationMs, nowMs, reason)) return;
      blocking = true;
    }
    client.flaggedIn = this.attackNo;
    this.suspectsInAttack++;
    this.suspectCount++;
    const known = address ?? key;
    logger.warn(messages.ddosSuspect(key, score, blocking), { event: 'ddos-suspect', key, score, requests: figures.requests, blocking, atMs: nowMs });
    events.publish(RAMPART_EVENTS.ddosSuspect, { key, address: known, score, signals: found, requests: figures.requests, blocking, atMs: nowMs });
  }

  private observeScore(score: number, slot: number): void {
    this.advancePeaks(slot);
    if (slot > this.peakSlot - DDOS_SLOTS && score > this.peakScores[slot % DDOS_SLOTS]!) this.peakScores[slot % DDOS_SLOTS] = score;
    let i = 0;
    while (i < SCORE_BUCKETS.length - 1 && score > SCORE_BUCKETS[i]!) i++;
    this.scoreCounts[i]!++;
    this.scoreSum += score;
  }

  /** Moves the peak scores' window to `slot`, forgetting the slots it passes. */
  private advancePeaks(slot: number): void {
    if (!(slot > this.peakSlot)) return;
    if (slot - this.peakSlot >= DDOS_SLOTS) this.peakScores.fill(0);
    else for (let s = this.peakSlot + 1; s <= slot; s++) this.peakScores[s % DDOS_SLOTS] = 0;
    this.peakSlot = slot;
  }

  /** The highest suspicion score judged within the window that ends now (0 when none was). */
  peakScore(): number {
    this.advancePeaks(Math.floor(this.parts.clock.now() / this.slotMs));
    return Math.max(...this.peakScores);
  }

  /** The scores judged so far: per bucket of SCORE_BUCKETS (not cumulative), their sum and count. */
  scores(): { readonly buckets: readonly number[]; readonly counts: readonly number[]; readonly sum: number; readonly count: number } {
    return { buckets: SCORE_BUCKETS, counts: [...this.scoreCounts], sum: this.scoreSum, count: this.scoreCounts.reduce((a, b) => a + b, 0) };
  }

  /** What the detector knows at the clock's time (an attack whose traffic has stopped ends here). */
  snapshot(): DdosSnapshot {
    const nowMs = this.parts.clock.now();
    const slot = Math.floor(nowMs / this.slotMs);
    this.total.advance(slot);
    if (this.attackSinceMs !== undefined) this.updateAttack(nowMs, slot);
    const { threshold, windowMs } = this.config;
    return {
      attack: this.attackSinceMs !== undefined,
      ...(this.attackSinceMs !== undefined ? { sinceMs: this.attackSinceMs } : {}),
      requests: this.total.total,
      threshold,
      windowMs,
      attacks: this.attackNo,
      suspects: this.suspectCount,
      clients: this.clients.size,
      endpoints: this.endpoints.busiest(5, slot),
    };
  }

  /** Resolves once the blocks under way are written. */
  settled(): Promise<void> {
    return this.parts.blocker?.settled() ?? Promise.resolve();
  }
}
