import type { Ban, BanSource, BanTarget } from '../storage/ban-store.interface.js';
import type { Violation } from '../storage/violation-store.interface.js';
import type { DdosAttackEvent, DdosSuspectEvent } from '../ddos/ddos-events.js';

export type { DdosAttackEvent, DdosSuspectEvent } from '../ddos/ddos-events.js';

/**
 * Names under which Rampart's events are emitted on `@nestjs/event-emitter`'s `EventEmitter2`, when
 * the app has one.
 *
 * @example
 * \@OnEvent(RAMPART_EVENTS.block)
 * onBlock(event: BlockEvent) { this.alerts.send(`${event.ban.id} blocked until ${new Date(event.untilMs).toISOString()}`); }
 */
export const RAMPART_EVENTS = Object.freeze({
  violation: 'rampart.violation',
  block: 'rampart.block',
  ban: 'rampart.ban',
  unban: 'rampart.unban',
  storeDown: 'rampart.store.down',
  storeUp: 'rampart.store.up',
  alert: 'rampart.alert',
  ddosAttack: 'rampart.ddos.attack',
  ddosSuspect: 'rampart.ddos.suspect',
} as const);

export type RampartEventName = (typeof RAMPART_EVENTS)[keyof typeof RAMPART_EVENTS];

/**
 * A request denied by a rule's algorithm (requests denied by a running block are not violations):
 * the violation as stored, with the client address and whether it was written.
 */
export interface ViolationEvent extends Violation {
  /** The client address, when known. */
  readonly address: string | null;
  /** The protocol the request came by: `http`, `ws`, `graphql`, `graphql-ws`, `rpc`... */
  readonly protocol: string;
  /**
   * Whether the violation was written to the ViolationStore. False when escalation is off for its
   * rule (such violations are only announced, so they never count towards a block), when the store
   * failed twice (the violation was then logged as an error line), and when it was held to be
   * written later (the store was down, or the key's queue was full).
   */
  readonly recorded: boolean;
  /** Present (true) for a shadow rule's violation: its key is `shadow:<client key>` and nothing was refused. */
  readonly shadow?: true;
}

/** A temporary block: made by the escalation policy (`source: 'auto'`), an operator (`'admin'`) or DDoS detection (`'ddos'`). */
export interface BlockEvent {
  readonly target: BanTarget;
  readonly ban: Ban;
  readonly source: BanSource;
  readonly reason: string;
  /** Epoch ms at which the block ends. */
  readonly untilMs: number;
  readonly durationMs: number;
  /** Temporary blocks of this target so far, this one included. */
  readonly blockCount: number;
  /** Epoch ms. */
  readonly atMs: number;
  /** Present (true) for a block shadow mode computed (on `shadow:<client key>`): never enforced on the client. */
  readonly shadow?: true;
}

/** A permanent ban: made by the escalation policy (`source: 'auto'`) or by an operator (`'admin'`). */
export interface BanEvent {
  readonly target: BanTarget;
  readonly ban: Ban;
  readonly source: BanSource;
  readonly reason: string;
  /** Epoch ms. */
  readonly atMs: number;
  /** Present (true) for a ban shadow mode computed (on `shadow:<client key>`): never enforced on the client. */
  readonly shadow?: true;
}

/** A block or ban lifted by an operator. */
export interface UnbanEvent {
  readonly target: BanTarget;
  /** Who lifted it. */
  readonly by: string;
  /** The lifted record; null when the target had none. */
  readonly ban: Ban | null;
  /** Whether the target's violation history and block count were forgotten too. */
  readonly clearHistory: boolean;
  /** Epoch ms. */
  readonly atMs: number;
  /** Present (true) when the target is a shadow key. */
  readonly shadow?: true;
}

/** The rate-limit store failed or timed out after answering before (or since startup). */
export interface StoreDownEvent {
  /** What went wrong: the store's error message, or `timed out after <n> ms`. */
  readonly reason: string;
  /** Epoch ms. */
  readonly atMs: number;
}

/** The rate-limit store answered again after being down. */
export interface StoreUpEvent {
  /** How long it was down, in milliseconds. */
  readonly downForMs: number;
  /** Epoch ms. */
  readonly atMs: number;
}

/** What an alert watches: the share of requests refused, violations per minute, or the highest DDoS suspicion score. */
export type AlertMetric = 'blockRate' | 'violationsPerMinute' | 'ddosScore';

export type AlertLevel = 'warning' | 'critical';

/**
 * A threshold of the `alerts` option crossed over the last `windowMs`: published by the instance
 * that sends it (once per alert and cooldown across instances that share a lease store), and sent
 * as such, in JSON, to each `json` webhook.
 */
export interface AlertEvent {
  /** Unique per alert, the same in every retry of its delivery: receivers can drop a repeat. */
  readonly id: string;
  readonly alert: AlertMetric;
  readonly level: AlertLevel;
  /** The metric's value over the window (`blockRate` as a share: 0.25 is 25 %). */
  readonly value: number;
  /** The threshold it reached (`value >= threshold`). */
  readonly threshold: number;
  readonly windowMs: number;
  /** Epoch ms of the evaluation (the app's clock). */
  readonly atMs: number;
  /** The instance that evaluated it (`<host>:<pid>:<random>`). */
  readonly instance: string;
  /** The figures of the window: the fleet's when the storage keeps every instance's statistics. */
  readonly stats: AlertStats;
}

/** The figures an alert was decided on. */
export interface AlertStats {
  readonly requests: number;
  readonly limited: number;
  readonly blocked: number;
  readonly banned: number;
  /** (limited + blocked + banned) / requests. */
  readonly blockRate: number;
  readonly violations: number;
  readonly violationsPerMinute: number;
  /** Instances whose figures are summed. */
  readonly instances: number;
  /** The rules that refused most (at most 5): name, requests counted, requests refused. */
  readonly topRules: readonly { readonly rule: string; readonly requests: number; readonly refused: number }[];
  /** The client keys refused most (at most 5). */
  readonly topKeys: readonly { readonly key: string; readonly refusals: number }[];
}

/** Payload of each event, by name. */
export interface RampartEventMap {
  'rampart.violation': ViolationEvent;
  'rampart.block': BlockEvent;
  'rampart.ban': BanEvent;
  'rampart.unban': UnbanEvent;
  'rampart.store.down': StoreDownEvent;
  'rampart.store.up': StoreUpEvent;
  'rampart.alert': AlertEvent;
  'rampart.ddos.attack': DdosAttackEvent;
  'rampart.ddos.suspect': DdosSuspectEvent;
}

/**
 * Callbacks of the module's `events` option. They run after the response's decision is made; a
 * callback that throws or rejects is logged and never changes the response. An async callback is
 * not awaited.
 */
export interface RateLimitEventHandlers {
  onViolation?: (event: ViolationEvent) => void | Promise<void>;
  onBlock?: (event: BlockEvent) => void | Promise<void>;
  onBan?: (event: BanEvent) => void | Promise<void>;
  onUnban?: (event: UnbanEvent) => void | Promise<void>;
  /** The rate-limit store stopped answering (once per outage). */
  onStoreDown?: (event: StoreDownEvent) => void | Promise<void>;
  /** The rate-limit store answers again (once per outage). */
  onStoreUp?: (event: StoreUpEvent) => void | Promise<void>;
  /** A threshold of the `alerts` option was crossed (once per alert and cooldown; see `AlertEvent`). */
  onAlert?: (event: AlertEvent) => void | Promise<void>;
  /** A DDoS attack began or ended on this instance (see the `ddos` option). */
  onDdosAttack?: (event: DdosAttackEvent) => void | Promise<void>;
  /** A client was found suspect during a DDoS attack (once per client and attack). */
  onDdosSuspect?: (event: DdosSuspectEvent) => void | Promise<void>;
}

/** The `events` handler of each event. */
export const EVENT_HANDLERS: { readonly [N in RampartEventName]: keyof RateLimitEventHandlers } = Object.freeze({
  'rampart.violation': 'onViolation',
  'rampart.block': 'onBlock',
  'rampart.ban': 'onBan',
  'rampart.unban': 'onUnban',
  'rampart.store.down': 'onStoreDown',
  'rampart.store.up': 'onStoreUp',
  'rampart.alert': 'onAlert',
  'rampart.ddos.attack': 'onDdosAttack',
  'rampart.ddos.suspect': 'onDdosSuspect',
});
